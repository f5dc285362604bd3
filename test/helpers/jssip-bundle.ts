/** JsSIP (npm `jssip`) bundled with esbuild as one browser script defining `window.JsSIP`. */
import { createRequire } from 'node:module';
import { build } from 'esbuild';

export async function bundleJssip(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('jssip');
  const out = await build({ entryPoints: [entry], bundle: true, format: 'iife', globalName: 'JsSIP', platform: 'browser', write: false, minify: true, logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}
