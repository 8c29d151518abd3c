// The backups in a backup store, and their manifests.
//
// Layout:
// - `backups/<id>/objects/<key>` — the bytes of `<key>` as this backup found them;
// - `backups/<id>/manifest.json` — written LAST: `{id, createdAt, source, objects:
//   [{key, bytes, sha256, etag, stored}], …}`. A backup without one (in progress, or its
//   process died) is neither listed nor restored;
// - `backups/lease.json` — one backup (and its pruning) at a time, across processes (lease.ts).
import { z } from 'zod';
import { HippoError, NotFoundError, ValidationError, type ErrorDetail } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/object-store.ts';

/** The `format` of every manifest this version writes and reads. */
export const MANIFEST_FORMAT = 'hippo-backup/1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

const entrySchema = z.object({
  key: z.string().min(1),
  bytes: z.number().int().min(0),
  sha256: sha256Hex,
  /** The source object's ETag when it was read: the next backup copies it again only if it changed. */
  etag: z.string(),
  /** Where its bytes are in the backup store: this backup's `objects/`, or an earlier backup's. */
  stored: z.string().min(1),
});

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string(),
  createdAt: z.string(),
  completedAt: z.string(),
  /** The store backed up (its URL). */
  source: z.string(),
  prefixes: z.array(z.string()),
  objects: z.array(entrySchema),
  totals: z.object({
    objects: z.number().int(),
    bytes: z.number().int(),
    /** Objects (and their bytes) this backup copied; the rest are its predecessors' copies. */
    copiedObjects: z.number().int(),
    copiedBytes: z.number().int(),
  }),
});

export type BackupEntry = z.infer<typeof entrySchema>;
export type BackupManifest = z.infer<typeof manifestSchema>;

/** One backup in a listing. */
export interface BackupSummary {
  id: string;
  createdAt: string;
  completedAt: string;
  source: string;
  objects: number;
  bytes: number;
  copiedObjects: number;
  copiedBytes: number;
}

export const BACKUPS = 'backups/';
/** `20261128T121339123Z-01KB…`: when it started, then a ULID; sorts by time. */
export const ID_PATTERN = /^\d{8}T\d{9}Z-[0-9A-HJKMNP-TV-Z]{26}$/;

export const manifestKey = (id: string) => `${BACKUPS}${id}/manifest.json`;
export const storedKey = (id: string, key: string) => `${BACKUPS}${id}/objects/${key}`;

/** A backup whose objects do not match its manifest: nothing was restored (or, in `details`, what was). */
export class BackupCorruptError extends HippoError {
  constructor(message: string, details: ErrorDetail[]) {
    super(message, { code: 'backup_corrupt', status: 422, details });
  }
}

/**
 * The complete backups in `backups` (those with a manifest), oldest first.
 * @example const latest = (await listBackups(store)).at(-1);
 */
export async function listBackups(backups: ObjectStore): Promise<BackupSummary[]> {
  const out: BackupSummary[] = [];
  for (const id of await backupIds(backups)) {
    const m = await readManifest(backups, id);
    out.push({ id, createdAt: m.createdAt, completedAt: m.completedAt, source: m.source, ...m.totals });
  }
  return out;
}

/** The manifest of a complete backup; `latest` is the newest. NotFoundError when there is no such complete backup. */
export async function readManifest(backups: ObjectStore, which: string): Promise<BackupManifest> {
  const id = await resolveId(backups, which);
  const obj = await backups.get(manifestKey(id));
  if (!obj) {
    const started = (await backups.list(`${BACKUPS}${id}/`)).length > 0;
    throw new NotFoundError(
      started
        ? `backup ${id} in ${backups.url} has no manifest: it is in progress or did not finish, and cannot be restored`
        : `no backup ${id} in ${backups.url}`,
    );
  }
  let parsed;
  try {
    parsed = manifestSchema.safeParse(JSON.parse(new TextDecoder().decode(obj.body)));
  } catch (err) {
    throw new BackupCorruptError(`backup ${id}: ${manifestKey(id)} is not JSON: ${(err as Error).message}`, [{ field: manifestKey(id), message: 'not JSON' }]);
  }
  if (!parsed.success || parsed.data.id !== id) {
    const why = parsed.success ? `it names backup ${parsed.data.id}` : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ');
    throw new BackupCorruptError(`backup ${id}: ${manifestKey(id)} is not a valid manifest (${why})`, [{ field: manifestKey(id), message: why }]);
  }
  return parsed.data;
}

/** Ids of the complete backups, oldest first. */
export async function backupIds(backups: ObjectStore): Promise<string[]> {
  const ids: string[] = [];
  for (const o of await backups.list(BACKUPS)) {
    const m = /^backups\/([^/]+)\/manifest\.json$/.exec(o.key);
    if (m && ID_PATTERN.test(m[1]!)) ids.push(m[1]!);
  }
  return ids.sort(compareKeys);
}

async function resolveId(backups: ObjectStore, which: string): Promise<string> {
  if (which === 'latest') {
    const id = (await backupIds(backups)).at(-1);
    if (!id) throw new NotFoundError(`no complete backup in ${backups.url}`);
    return id;
  }
  if (!ID_PATTERN.test(which)) {
    throw new ValidationError(`"${which}" is not a backup id (like 20260101T000000000Z-01KB…) or "latest"`, [{ field: 'backupId', value: which, message: 'not a backup id' }]);
  }
  return which;
}

/** Keys and ids in code-unit order (as S3 lists them), whatever the locale. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
