// More: leave requests, asked here (the place by name: the office sets the area) and their state;
// setting up Traccar Client, which reports the location in the background (a web page cannot) with the
// phone's ingest key, read from a QR code Traccar Client scans.
import { api, ApiError } from './api.js';
import * as i18n from './i18n.js';
import { $, card, explain, say } from './ui.js';

const { t } = i18n;
const TRACCAR = { accuracy: 'high', interval: '60', buffer: 'true' }; // Traccar Client's own parameter names

// The link Traccar Client reads from a QR code: the server's OsmAnd address, the key as the device id.
export function traccarLink(osmandUrl, key) {
  const url = new URL(osmandUrl);
  url.search = new URLSearchParams({ id: key, ...TRACCAR }).toString();
  return url.toString();
}

function showKeyStatus(status) {
  const line = status.active
    ? t('traccar.active', { expires: i18n.localTime(status.expires_at) })
    : t('traccar.inactive');
  const used = status.last_used_at ? ` · ${t('traccar.last_used', { time: i18n.localTime(status.last_used_at) })}` : '';
  $('#traccar-status').textContent = line + used;
  $('#traccar-status').dataset.active = status.active ? '1' : '0';
}

$('#traccar-issue').addEventListener('click', async () => {
  try {
    const issued = await api('POST', '/me/ingest-key');
    const link = traccarLink(issued.osmand_url, issued.ingest_key);
    const code = window.qrcode(0, 'M');
    code.addData(link);
    code.make();
    $('#traccar-code').src = code.createDataURL(6, 4);
    $('#traccar-code').dataset.link = link;
    $('#traccar-url').textContent = issued.osmand_url;
    $('#traccar-key').textContent = issued.ingest_key;
    $('#traccar-issued').hidden = false;
    showKeyStatus({ active: true, expires_at: issued.expires_at, last_used_at: null });
  } catch (error) {
    say(explain(error), 'error');
  }
});

// A datetime-local value ("2026-11-26T09:00", the phone's wall clock) as an aware UTC instant.
function utcInstant(local) {
  return new Date(local).toISOString();
}

$('#leave-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    await api('POST', '/me/leave-requests', { body: {
      destination_name: form.destination_name.value.trim(), reason: form.reason.value.trim(),
      start_at: utcInstant(form.start_at.value), end_at: utcInstant(form.end_at.value),
    } });
    form.reset();
    say(t('leave.sent'));
    await showMore();
  } catch (error) {
    say(explain(error), 'error');
  } finally {
    button.disabled = false;
  }
});

export async function showMore() {
  $('#traccar-issued').hidden = true;
  let status; let leave;
  try {
    [status, leave] = await Promise.all([api('GET', '/me/ingest-key'), api('GET', '/me/leave-requests?limit=20')]);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say(explain(error), 'error');
    return;
  }
  showKeyStatus(status);
  const list = $('#leave');
  list.replaceChildren();
  for (const request of leave.items) {
    const entry = card(list, request.destination_name, `${t(`leave.${request.status}`)} · `
      + `${i18n.localTime(request.start_at)} – ${i18n.localTime(request.end_at)}`);
    entry.id = `leave-${request.id}`;
  }
  $('#leave-empty').hidden = leave.items.length > 0;
}
