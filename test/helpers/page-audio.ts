/**
 * Records a MediaStream inside a Playwright page with WebAudio (48 kHz mono) and returns it as
 * 16-bit samples: what a browser really hears from a WebRTC peer.
 */
import type { Page } from 'playwright-core';

/** `streamExpr` is a page expression for the stream, e.g. `window.strowgerRoom.remote`. */
export async function recordPageAudio(page: Page, streamExpr: string, ms: number): Promise<Int16Array> {
  const samples = await page.evaluate(`new Promise((resolve, reject) => {
    const remote = ${streamExpr};
    if (!remote) { reject(new Error('no remote stream')); return; }
    // Chromium plays a remote WebRTC stream into WebAudio only while a media element holds it.
    const el = new Audio(); el.muted = true; el.srcObject = remote; el.play().catch(() => {});
    const ctx = new AudioContext({ sampleRate: 48000 });
    const src = ctx.createMediaStreamSource(remote);
    const proc = ctx.createScriptProcessor(4096, 1, 1);
    const mute = ctx.createGain(); mute.gain.value = 0;
    const chunks = [];
    proc.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    src.connect(proc); proc.connect(mute); mute.connect(ctx.destination);
    ctx.resume();
    setTimeout(() => {
      src.disconnect(); proc.disconnect(); ctx.close();
      const out = [];
      for (const c of chunks) for (const x of c) out.push(Math.max(-32768, Math.min(32767, Math.round(x * 32767))));
      resolve(out);
    }, ${Number(ms)});
  })`);
  return Int16Array.from(samples as number[]);
}
