import { loadConfig } from '../../shared/config.ts';
import { runStepMain } from '../step-main.ts';
import { createApp } from './app.ts';

runStepMain('transcript-split', createApp, loadConfig());
