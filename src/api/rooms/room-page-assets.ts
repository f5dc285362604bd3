/**
 * The room page: a small HTML shell and its script, bundled once from `web/room-page.ts` with
 * esbuild on first request (then kept in memory). The script is TypeScript for the browser,
 * outside `src/` so the server's compile (no DOM types) and `npm run build` leave it alone.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// src/api/rooms and dist/api/rooms are both three levels below the package root.
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

let bundle: Promise<string> | null = null;

export function roomPageScript(): Promise<string> {
  bundle ??= build({
    entryPoints: [join(WEB_DIR, 'room-page.ts')], bundle: true, format: 'iife', platform: 'browser',
    target: 'es2020', write: false, minify: true, logLevel: 'silent',
  }).then((out) => out.outputFiles[0]!.text).catch((err: unknown) => {
    bundle = null;
    throw err;
  });
  return bundle;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `videoSlots`: how many remote videos the page can show (STROWGER_ROOMS_VIDEO_SLOTS; 0: no video). */
export function roomPageHtml(room: string, videoSlots = 4): string {
  const name = escapeHtml(room);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} · Strowger room</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;display:grid;grid-template-columns:1fr 20rem;min-height:100vh}
main{padding:1rem}aside{border-left:1px solid #ccc;padding:1rem;display:flex;flex-direction:column}
#chat-log{flex:1;overflow:auto;list-style:none;padding:0}#participants{list-style:none;padding:0}
#participants li[data-muted=true]::after{content:" (muted)";color:#888}
.hidden{display:none}#status{color:#555}
#videos{display:flex;flex-wrap:wrap;gap:.5rem}#videos figure{margin:0;width:240px}
#videos video{width:240px;height:180px;background:#222;object-fit:cover}#videos figcaption{font-size:.9rem}
</style></head>
<body data-room="${name}">
<main data-video-slots="${Number(videoSlots)}">
  <h1>Room ${name}</h1>
  <form id="join-form">
    <label>Your name <input id="display-name" required maxlength="64" autocomplete="name"></label>
    <label${videoSlots > 0 ? '' : ' class="hidden"'}><input id="with-camera" type="checkbox"> with camera</label>
    <button id="join" type="submit">Join with microphone</button>
  </form>
  <div id="in-room" class="hidden">
    <button id="mute" type="button">Mute</button>
    <button id="camera" type="button" class="hidden">Camera off</button>
    <button id="leave" type="button">Leave</button>
    <div id="videos"><figure id="local-tile" class="hidden"><video id="local-video" autoplay playsinline muted></video><figcaption>You</figcaption></figure></div>
    <h2>Participants</h2>
    <ul id="participants"></ul>
  </div>
  <p id="status" role="status">Not joined.</p>
  <audio id="remote" autoplay></audio>
</main>
<aside>
  <h2>Chat</h2>
  <ul id="chat-log"></ul>
  <form id="chat-form"><input id="chat-text" maxlength="2000" disabled aria-label="Message"><button id="chat-send" disabled>Send</button></form>
</aside>
<script src="/rooms/_assets/room.js"></script>
</body></html>`;
}
