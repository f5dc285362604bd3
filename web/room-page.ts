/**
 * The room page's script (bundled by the server with esbuild; checked with
 * `npx tsc -p web`): join with the microphone (and optionally the camera) over the room
 * WebSocket (protocol in docs/ROOMS.md), show participants, the others' videos and chat, mute and
 * leave. The offer carries every ICE candidate (gathering waits to complete), so there is no
 * trickle. Video: the offer has the camera (`sendonly`) and `data-video-slots` receive-only video
 * m-lines; the server's `video` messages say whom each slot (by mid) shows — no renegotiation.
 */

interface Participant { id: string; kind: string; display_name: string; muted: boolean }
interface Chat { id: number; from: string; text: string; at: string }
interface Slot { mid: string; participant: string | null }
type ServerMessage =
  | { type: 'joined'; id: string; sdp: string; participants: Participant[]; chat: Chat[] }
  | { type: 'participant_joined' | 'participant_updated'; participant: Participant }
  | { type: 'participant_left'; participant: Participant; reason: string }
  | { type: 'chat'; message: Chat }
  | { type: 'video'; publishing: boolean; slots: Slot[] }
  | { type: 'error'; code: string; message: string }
  | { type: 'left'; reason: string };

/** What tests and curious users can read from the console. */
interface RoomPageState {
  state: 'idle' | 'joining' | 'joined' | 'left'; me: string | null; participants: Participant[]; remote: MediaStream | null; lastError: string | null;
  /** The peer connection (tests read its stats) and whom each video slot shows. */
  pc: RTCPeerConnection | null; slots: Slot[]; publishing: boolean;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const roomName = document.body.dataset.room ?? '';
const token = new URLSearchParams(location.search).get('token') ?? undefined;
const view: RoomPageState = { state: 'idle', me: null, participants: [], remote: null, lastError: null, pc: null, slots: [], publishing: false };
const videoSlots = Number(document.querySelector('main')?.dataset.videoSlots ?? '0') || 0;
/** Remote video tiles by the mid of their slot. */
const tiles = new Map<string, HTMLElement>();
(window as unknown as { strowgerRoom: RoomPageState }).strowgerRoom = view;

let ws: WebSocket | null = null;
let pc: RTCPeerConnection | null = null;
let mic: MediaStream | null = null;
let muted = false;
let cameraOff = false;

function showStatus(text: string): void {
  $('status').textContent = text;
}

function renderParticipants(): void {
  const list = $('participants');
  list.replaceChildren(...view.participants.map((p) => {
    const li = document.createElement('li');
    li.textContent = p.id === view.me ? `${p.display_name} (you)` : p.display_name;
    li.dataset.muted = String(p.muted);
    li.dataset.id = p.id;
    return li;
  }));
  renderTiles();
}

/** Shows the tiles of slots that show someone, labelled with their name; hides the others. */
function renderTiles(): void {
  for (const [mid, tile] of tiles) {
    const who = view.slots.find((s) => s.mid === mid)?.participant ?? null;
    const p = who === null ? undefined : view.participants.find((x) => x.id === who);
    tile.classList.toggle('hidden', who === null);
    tile.dataset.participant = who ?? '';
    tile.querySelector('figcaption')!.textContent = p?.display_name ?? '';
  }
}

/** A tile for a slot's track (hidden until the server says whom it shows). */
function addTile(mid: string, track: MediaStreamTrack): void {
  const tile = document.createElement('figure');
  tile.className = 'tile hidden';
  tile.dataset.mid = mid;
  const video = document.createElement('video');
  video.autoplay = true; video.playsInline = true; video.muted = true;
  video.srcObject = new MediaStream([track]);
  tile.append(video, document.createElement('figcaption'));
  $('videos').append(tile);
  tiles.set(mid, tile);
  renderTiles();
}

function addChat(m: Chat): void {
  const li = document.createElement('li');
  li.textContent = `${m.from}: ${m.text}`;
  $('chat-log').append(li);
  li.scrollIntoView();
}

function inRoom(joined: boolean): void {
  $('join-form').classList.toggle('hidden', joined);
  $('in-room').classList.toggle('hidden', !joined);
  for (const id of ['chat-text', 'chat-send']) ($(id) as HTMLInputElement).disabled = !joined;
}

function send(message: object): void {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function gathered(peer: RTCPeerConnection): Promise<void> {
  if (peer.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => { if (peer.iceGatheringState === 'complete') resolve(); };
    peer.addEventListener('icegatheringstatechange', check);
    // Unreachable STUN/TURN would stall gathering: offer what we have after 3 s.
    setTimeout(resolve, 3000);
  });
}

async function join(displayName: string, camera: boolean): Promise<void> {
  view.state = 'joining';
  showStatus(camera ? 'Asking for the microphone and camera…' : 'Asking for the microphone…');
  // `?audio=raw` turns the browser's voice processing off (test tones, music): noise suppression
  // removes steady tones.
  const processing = new URLSearchParams(location.search).get('audio') !== 'raw';
  const audio = { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing };
  // No camera (none, or refused): join with the microphone alone rather than not at all.
  mic = camera
    ? await navigator.mediaDevices.getUserMedia({ audio, video: { width: 640, height: 360 } }).catch(() => null)
    : null;
  if (camera && !mic) showStatus('No camera: joining with the microphone only.');
  mic ??= await navigator.mediaDevices.getUserMedia({ audio, video: false });
  pc = new RTCPeerConnection({ iceServers: [] });
  view.pc = pc;
  for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
  const cam = mic.getVideoTracks()[0];
  if (cam) {
    pc.addTransceiver(cam, { direction: 'sendonly', streams: [mic] });
    ($('local-video') as HTMLVideoElement).srcObject = new MediaStream([cam]);
    $('local-tile').classList.remove('hidden');
    $('camera').classList.remove('hidden');
  }
  // Receive slots: the server forwards up to this many others' cameras, no renegotiation.
  for (let i = 0; i < videoSlots; i++) pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addEventListener('track', (ev) => {
    if (ev.track.kind === 'video') return addTile(ev.transceiver.mid ?? '', ev.track);
    view.remote = ev.streams[0] ?? new MediaStream([ev.track]);
    ($('remote') as HTMLAudioElement).srcObject = view.remote;
  });
  pc.addEventListener('connectionstatechange', () => {
    if (pc?.connectionState === 'connected') showStatus(`In room ${roomName}.`);
    if (pc?.connectionState === 'failed') showStatus('Media connection failed.');
  });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  showStatus('Joining…');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  ws = new WebSocket(`${scheme}://${location.host}/rooms/${encodeURIComponent(roomName)}/ws`);
  ws.addEventListener('open', () => send({ type: 'join', display_name: displayName, sdp: pc!.localDescription!.sdp, ...(token ? { token } : {}) }));
  ws.addEventListener('message', (ev) => void onMessage(JSON.parse(String(ev.data)) as ServerMessage));
  ws.addEventListener('close', () => hangUp('connection closed'));
}

async function onMessage(m: ServerMessage): Promise<void> {
  switch (m.type) {
    case 'joined':
      view.me = m.id;
      view.participants = m.participants;
      await pc!.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      view.state = 'joined';
      inRoom(true);
      renderParticipants();
      $('chat-log').replaceChildren();
      m.chat.forEach(addChat);
      showStatus(`Connecting media in ${roomName}…`);
      break;
    case 'participant_joined':
      view.participants = [...view.participants.filter((p) => p.id !== m.participant.id), m.participant];
      renderParticipants();
      break;
    case 'participant_updated':
      view.participants = view.participants.map((p) => (p.id === m.participant.id ? m.participant : p));
      renderParticipants();
      break;
    case 'participant_left':
      view.participants = view.participants.filter((p) => p.id !== m.participant.id);
      renderParticipants();
      break;
    case 'chat':
      addChat(m.message);
      break;
    case 'video':
      view.slots = m.slots;
      view.publishing = m.publishing;
      if (mic?.getVideoTracks().length && !m.publishing) showStatus('The room has as many cameras as it forwards: yours is not shown.');
      renderTiles();
      break;
    case 'error':
      view.lastError = `${m.code}: ${m.message}`;
      showStatus(`Error: ${m.message}`);
      if (view.state === 'joining') hangUp(m.code);
      break;
    case 'left':
      hangUp(m.reason);
      break;
  }
}

function hangUp(reason: string): void {
  if (view.state === 'left' || view.state === 'idle') return;
  view.state = 'left';
  ws?.close();
  pc?.close();
  mic?.getTracks().forEach((t) => t.stop());
  ws = null; pc = null; mic = null;
  view.pc = null;
  for (const tile of tiles.values()) tile.remove();
  tiles.clear();
  view.slots = [];
  $('local-tile').classList.add('hidden');
  $('camera').classList.add('hidden');
  inRoom(false);
  view.participants = [];
  renderParticipants();
  showStatus(`Left the room (${reason}).`);
}

$('join-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = ($('display-name') as HTMLInputElement).value.trim();
  if (name) join(name, ($('with-camera') as HTMLInputElement).checked).catch((err: Error) => { view.lastError = err.message; showStatus(`Could not join: ${err.message}`); hangUp('error'); });
});
$('mute').addEventListener('click', () => {
  muted = !muted;
  // Muted at the server (others see it in the list) and at the track (nothing leaves the browser).
  mic?.getAudioTracks().forEach((t) => { t.enabled = !muted; });
  send({ type: 'mute', muted });
  $('mute').textContent = muted ? 'Unmute' : 'Mute';
});
$('camera').addEventListener('click', () => {
  // Off: the track sends black frames (the slot stays; no renegotiation).
  cameraOff = !cameraOff;
  mic?.getVideoTracks().forEach((t) => { t.enabled = !cameraOff; });
  $('camera').textContent = cameraOff ? 'Camera on' : 'Camera off';
});
$('leave').addEventListener('click', () => { send({ type: 'leave' }); hangUp('left'); });
$('chat-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('chat-text') as HTMLInputElement;
  if (input.value.trim()) send({ type: 'chat', text: input.value.trim() });
  input.value = '';
});
export {};
