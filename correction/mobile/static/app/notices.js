// Notifications (a spot check is answered from its notice) and the alerts that ask for an explanation.
import { api, ApiError } from './api.js';
import * as i18n from './i18n.js';
import { $, card, explain, say } from './ui.js';

const { t } = i18n;

export async function showNotices(answerSpot) {
  let notices; let alerts;
  try {
    [notices, alerts] = await Promise.all([api('GET', '/me/notifications?limit=30'), api('GET', '/me/alerts')]);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say(explain(error), 'error');
    return;
  }
  const list = $('#notices');
  list.replaceChildren();
  for (const notice of notices.items) {
    const when = i18n.localTime(notice.created_at);
    const spot = notice.kind === 'spot_check' && !notice.read_at && new Date(notice.data.due_at) > Date.now();
    const action = spot ? t('spot.answer') : (notice.read_at ? null : t('notices.read'));
    const entry = card(list, notice.title, `${notice.body} · ${when}`, action, async () => {
      if (spot) await answerSpot();
      else await api('POST', `/me/notifications/${notice.id}/read`).catch((error) => say(explain(error), 'error'));
      await showNotices(answerSpot);
    });
    entry.id = `notice-${notice.id}`;
    entry.classList.toggle('unread', !notice.read_at);
  }
  $('#notices-empty').hidden = notices.items.length > 0;

  const asks = $('#alerts');
  asks.replaceChildren();
  for (const alert of alerts.items) {
    const entry = card(asks, t(`alert.${alert.type}`), i18n.localTime(alert.raised_at));
    entry.id = `alert-${alert.id}`;
    if (alert.explanation) {
      const given = document.createElement('div');
      given.className = 'hint';
      given.textContent = `${t('alerts.explained')} ${alert.explanation}`;
      entry.append(given);
      continue;
    }
    const form = document.createElement('form');
    const text = document.createElement('textarea');
    text.name = 'explanation';
    text.required = true;
    text.maxLength = 2000;
    text.setAttribute('aria-label', t('alerts.explain'));
    const send = document.createElement('button');
    send.type = 'submit';
    send.textContent = t('alerts.send');
    form.append(text, send);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('POST', `/me/alerts/${alert.id}/explanation`, { body: { explanation: text.value.trim() } });
        say(t('alerts.thanks'));
      } catch (error) {
        say(explain(error), 'error');
      }
      await showNotices(answerSpot);
    });
    entry.append(form);
  }
  $('#alerts-section').hidden = alerts.items.length === 0;
}
