// Types for chromium.mjs (plain Node ESM, so scripts run without a build step).

export declare const debianChromium: string;
/** Flags for a headless launch on a machine with no network but loopback, as root. */
export declare const chromiumArgs: readonly string[];
/** The absolute path of a runnable Chromium: HIPPO_CHROMIUM, else /usr/bin/chromium (apt-get installed as root). */
export declare function ensureChromium(opts?: { quiet?: boolean }): Promise<string>;
