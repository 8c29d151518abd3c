#!/usr/bin/env node
// The `hippo` command. Hippo is written in TypeScript and runs through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
