// Check-ins: the station's code read from the camera, a fresh high-accuracy fix, the post; offline, the outbox.
import { api, ApiError, NetworkError } from './api.js';
import * as store from './store.js';

export class FixError extends Error {
  constructor(code) { super(`geolocation error ${code}`); this.code = code; }
}

// A fresh fix. Its time is the phone's clock when the fix arrived (maximumAge 0: taken now).
export function takeFix() {
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition((position) => resolve({
      lat: position.coords.latitude,
      lon: position.coords.longitude,
      accuracy_m: Math.max(position.coords.accuracy, 1), // some phones say 0 for "unknown"
      recorded_at: new Date().toISOString(),
    }), (error) => reject(new FixError(error.code)), { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });
}

// Read a QR code from the back camera until one is found or ``signal`` aborts; its text, or null.
export async function scan(video, canvas, signal) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  try {
    video.srcObject = stream;
    await video.play();
    const context = canvas.getContext('2d', { willReadFrequently: true });
    while (!signal.aborted) {
      if (video.readyState >= 2 && video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(image.data, image.width, image.height);
        if (found && found.data) return found.data;
      }
      await new Promise((resolve) => { setTimeout(resolve, 150); });
    }
    return null;
  } finally {
    stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
  }
}

// Post a check-in of ``kind`` with ``fix``; {checkin} when answered, {queued: true} when the network is away.
// A refusal throws its ApiError. A repeat of the same body (same kind and fix time) is answered with the
// first check-in, not a second one, so sending an outbox entry twice is harmless.
export async function checkIn(kind, fix, qr) {
  const body = { kind, ...fix, is_mock: false };
  if (qr) body.qr = qr;
  try {
    return { checkin: await api('POST', '/me/checkins', { body }) };
  } catch (error) {
    if (!(error instanceof NetworkError) && !(error instanceof ApiError && error.status >= 500)) throw error;
    await store.post({ body, queued_at: new Date().toISOString() });
    return { queued: true };
  }
}

let flushing = null;

// A refusal of the check-in itself (too far, no window, ...), which a later try would meet again; not a
// network failure, a server error, a rate limit or a login that has to be renewed first.
function refusedForGood(error) {
  return error instanceof ApiError && error.status < 500 && ![401, 429].includes(error.status);
}

// Send what waits in the outbox, oldest first, with its original fix time; what came of each entry.
export function flush() {
  flushing ||= (async () => {
    const results = [];
    try {
      for (const entry of await store.outbox()) {
        try {
          results.push({ body: entry.body, checkin: await api('POST', '/me/checkins', { body: entry.body }) });
        } catch (error) {
          if (!refusedForGood(error)) break; // try again later, from this entry on
          results.push({ body: entry.body, error });
        }
        await store.done(entry.id);
      }
    } finally {
      flushing = null;
    }
    return results;
  })();
  return flushing;
}
