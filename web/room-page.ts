/**
 * The room page's script (bundled by the server with esbuild; checked with
 * `npx tsc -p web`): join with the microphone over the room WebSocket (protocol in
 * docs/ROOMS.md), show participants and chat, mute and leave. The offer carries every ICE
 * candidate (gathering waits to complete), so there is no trickle.
 */

interface Participant { id: string; kind: string; display_name: string; muted: boolean }
interface Chat { id: number; from: string; text: string; at: string }
type ServerMessage =
  | { type: 'joined'; id: string; sdp: string; participants: Participant[]; chat: Chat[] }
  | { type: 'participant_joined' | 'participant_updated'; participant: Participant }
  | { type: 'participant_left'; participant: Participant; reason: string }
  | { type: 'chat'; message: Chat }
  | { type: 'error'; code: string; message: string }
  | { type: 'left'; reason: string };

/** What tests and curious users can read from the console. */
interface RoomPageState { state: 'idle' | 'joining' | 'joined' | 'left'; me: string | null; participants: Participant[]; remote: MediaStream | null; lastError: string | null }

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const roomName = document.body.dataset.room ?? '';
const token = new URLSearchParams(location.search).get('token') ?? undefined;
const view: RoomPageState = { state: 'idle', me: null, participants: [], remote: null, lastError: null };
(window as unknown as { strowgerRoom: RoomPageState }).strowgerRoom = view;

let ws: WebSocket | null = null;
let pc: RTCPeerConnection | null = null;
let mic: MediaStream | null = null;
let muted = false;

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

async function join(displayName: string): Promise<void> {
  view.state = 'joining';
  showStatus('Asking for the microphone…');
  // `?audio=raw` turns the browser's voice processing off (test tones, music): noise suppression
  // removes steady tones.
  const processing = new URLSearchParams(location.search).get('audio') !== 'raw';
  mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing }, video: false });
  pc = new RTCPeerConnection({ iceServers: [] });
  for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
  pc.addEventListener('track', (ev) => {
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
  inRoom(false);
  view.participants = [];
  renderParticipants();
  showStatus(`Left the room (${reason}).`);
}

$('join-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = ($('display-name') as HTMLInputElement).value.trim();
  if (name) join(name).catch((err: Error) => { view.lastError = err.message; showStatus(`Could not join: ${err.message}`); hangUp('error'); });
});
$('mute').addEventListener('click', () => {
  muted = !muted;
  // Muted at the server (others see it in the list) and at the track (nothing leaves the browser).
  mic?.getAudioTracks().forEach((t) => { t.enabled = !muted; });
  send({ type: 'mute', muted });
  $('mute').textContent = muted ? 'Unmute' : 'Mute';
});
$('leave').addEventListener('click', () => { send({ type: 'leave' }); hangUp('left'); });
$('chat-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('chat-text') as HTMLInputElement;
  if (input.value.trim()) send({ type: 'chat', text: input.value.trim() });
  input.value = '';
});
export {};
