// The app's screens: login (device binding, forced password change), today, check in, the status code.
import { api, ApiError, NetworkError, setToken, whenUnauthorized } from './api.js';
import { checkIn, flush, scan, takeFix } from './checkin.js';
import * as i18n from './i18n.js';
import { showPoints } from './mall.js';
import { showMore } from './more.js';
import { showNotices } from './notices.js';
import * as store from './store.js';
import { $, card, explain, say } from './ui.js';

const { t } = i18n;
const SCREENS = ['loading', 'login', 'password', 'today', 'scan', 'code', 'notices', 'points', 'more'];
const TABS = ['today', 'code', 'notices', 'points', 'more'];
const body = document.body.dataset;
let codeTimer = null;
let scanning = null;
let current = 'loading';

// Whether a screen of the logged-in app is up (not the login or the forced password change).
const inside = () => TABS.includes(current) || current === 'scan';

function show(screen) {
  current = screen;
  SCREENS.forEach((name) => { $(`#screen-${name}`).hidden = name !== screen; });
  $('#tabs').hidden = !TABS.includes(screen) && screen !== 'scan';
  document.querySelectorAll('#tabs a').forEach((a) => {
    if (a.getAttribute('href') === `#${screen}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (screen !== 'code') clearTimeout(codeTimer);
  if (screen !== 'scan' && scanning) scanning.abort();
}

async function route() {
  const screen = (location.hash || '#today').slice(1);
  if (screen === 'code') return showCode();
  if (screen === 'notices') { show('notices'); return showNotices(() => answer('spot')); }
  if (screen === 'points') { show('points'); return showPoints(); }
  if (screen === 'more') { show('more'); return showMore(); }
  return showToday();
}

// --- login, forced password change, logout ----------------------------------------------------------

async function loggedIn(login) {
  setToken(login.token);
  await store.set('token', login.token);
  if (login.supervisee.password_change_required) return show('password');
  history.replaceState(null, '', '#today'); // no hashchange: the route is drawn once, here
  return route();
}

async function loggedOut() {
  setToken(null);
  await store.remove('token');
  await store.remove('schedule');
  show('login');
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  say('');
  try {
    const login = await api('POST', '/auth/supervisee/login', { body: {
      phone: form.phone.value.trim(), password: form.password.value, device_id: await store.deviceId() } });
    form.reset();
    await loggedIn(login);
  } catch (error) {
    say(explain(error), 'error');
  }
});

$('#password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  if (form.new_password.value !== form.repeat.value) return say(t('password.mismatch'), 'error');
  try {
    await api('POST', '/auth/password', { body: {
      current_password: form.current_password.value, new_password: form.new_password.value } });
    form.reset();
    say(t('password.changed'));
    history.replaceState(null, '', '#today'); // no hashchange: the route is drawn once, here
    return route();
  } catch (error) {
    return say(explain(error), 'error');
  }
});

$('#logout').addEventListener('click', async () => {
  try { await api('POST', '/auth/logout'); } catch { /* the token goes from this phone either way */ }
  await loggedOut();
});

whenUnauthorized(async (error) => {
  if (error.code === 'password_change_required') return show('password');
  say(t('login.expired'), 'error');
  return loggedOut();
});

// --- today: the windows, pending spot checks, check in ----------------------------------------------

async function showToday() {
  show('today');
  await showOutbox();
  let schedule;
  try {
    schedule = await api('GET', '/me/schedule');
    await store.set('schedule', schedule);
  } catch (error) {
    // offline: the last schedule seen (check-ins made now wait in the outbox); the header says offline
    schedule = error instanceof NetworkError ? await store.get('schedule') : null;
    if (!schedule) {
      if (!(error instanceof ApiError && error.status === 401)) say(explain(error), 'error');
      return;
    }
  }
  const zone = schedule.timezone;
  const windows = $('#windows');
  const spots = $('#spot-checks');
  windows.replaceChildren();
  spots.replaceChildren();
  for (const spot of schedule.spot_checks.filter((s) => s.status === 'pending')) {
    const due = t('spot.due', { time: i18n.localTime(spot.due_at, zone) });
    const item = card(spots, t('spot.title'), spot.note ? `${due} · ${spot.note}` : due,
      t('spot.answer'), () => answerToday('spot'));
    item.id = `spot-${spot.id}`;
  }
  for (const window of schedule.windows) {
    const kind = window.kind === 'period' ? 'remote' : window.kind;
    const open = window.status === 'open';
    const item = card(windows, t(`window.${window.kind}`),
      `${t(`status.${window.status}`)} · ${t('window.closes', { time: i18n.localTime(window.closes_at, zone) })}`,
      open && kind !== 'spot' ? t(kind === 'station' ? 'checkin.scan' : 'checkin.here') : null,
      () => (kind === 'station' ? scanAndCheckIn() : answerToday(kind)));
    item.id = `window-${window.key.replace(/[^\w-]/g, '-')}`;
    item.dataset.status = window.status;
  }
  $('#today-empty').hidden = schedule.windows.length + spots.children.length > 0;
}

async function showOutbox() {
  const waiting = (await store.outbox()).length;
  $('#queue').hidden = waiting === 0;
  $('#queue').textContent = t('outbox.waiting', { count: waiting });
}

function reportCheckin(result) {
  if (result.queued) return say(t('outbox.queued'));
  const checkin = result.checkin;
  return say(t(checkin.duplicate ? 'checkin.already' : 'checkin.accepted', { kind: t(`window.${checkin.kind}`) }));
}

async function answer(kind, qr) {
  say(t('checkin.locating'));
  try {
    reportCheckin(await checkIn(kind, await takeFix(), qr));
  } catch (error) {
    say(explain(error), 'error');
  }
}

async function answerToday(kind, qr) {
  await answer(kind, qr);
  await showToday();
}

async function scanAndCheckIn() {
  say('');
  show('scan');
  scanning = new AbortController();
  let text;
  try {
    text = await scan($('#camera'), $('#frame'), scanning.signal);
  } catch (error) {
    say(t('scan.no_camera'), 'error');
    return showToday();
  }
  if (text) await answerToday('station', text);
}

$('#scan-cancel').addEventListener('click', () => { scanning?.abort(); showToday(); });

// Send what waits in the outbox (at start and when the network returns) and say what came of it.
async function sendOutbox() {
  const results = await flush();
  for (const result of results) {
    if (result.checkin) say(t('outbox.sent', { time: i18n.localTime(result.body.recorded_at) }));
    else say(`${t('outbox.refused')} ${explain(result.error)}`, 'error');
  }
  if (results.length && !$('#screen-today').hidden) await showToday();
}

// --- the status code (矫正码) ---------------------------------------------------------------------------

async function showCode() {
  show('code');
  clearTimeout(codeTimer);
  try {
    const response = await api('GET', '/me/code.png', { raw: true });
    const colour = response.headers.get('X-Status-Colour') || 'green';
    const image = $('#status-code');
    const old = image.src;
    image.src = URL.createObjectURL(await response.blob());
    image.alt = t('code.title');
    if (old.startsWith('blob:')) URL.revokeObjectURL(old);
    image.dataset.renewals = String(Number(image.dataset.renewals || -1) + 1);
    $('#code-frame').className = `code colour-${colour}`;
    $('#code-colour').textContent = t(`colour.${colour}`);
    $('#code-frame').dataset.colour = colour;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say(explain(error), 'error');
  }
  // a fresh code before this one expires, for as long as it is on screen
  codeTimer = setTimeout(() => { if (location.hash === '#code') showCode(); }, Number(body.codeRefreshSeconds) * 1000);
}

// --- start ----------------------------------------------------------------------------------------------

function showNetwork() { $('#offline').hidden = navigator.onLine; }

async function start() {
  await i18n.use(i18n.preferred());
  $('#language').textContent = t('app.other_language');
  $('#language').addEventListener('click', async () => {
    await i18n.use(i18n.other());
    $('#language').textContent = t('app.other_language');
    if (inside()) await route(); // redrawn in the new language
  });
  showNetwork();
  window.addEventListener('offline', showNetwork);
  window.addEventListener('online', () => { showNetwork(); sendOutbox(); });
  window.addEventListener('hashchange', () => { if (inside()) route(); });
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(body.serviceWorker, { scope: './' }).catch(() => {});
  }
  await store.deviceId();
  const token = await store.get('token');
  if (!token) return show('login');
  setToken(token);
  await route();
  return sendOutbox();
}

start();
