// What every screen shows with: messages, refusals in plain words, cards of a list.
import { ApiError, NetworkError } from './api.js';
import { FixError } from './checkin.js';
import * as i18n from './i18n.js';

const { t } = i18n;
export const $ = (selector) => document.querySelector(selector);

export function say(text, kind = 'ok') {
  const message = $('#message');
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

// A refusal or failure in plain words: the catalog's text for its code, else the server's message.
export function explain(error) {
  if (error instanceof NetworkError) return t('net.unreachable');
  if (error instanceof FixError) return t(`fix.error_${error.code}`);
  if (error instanceof ApiError) {
    const field = error.details.fields && error.details.fields[0];
    const key = field && i18n.has(`field.${field.code}`) ? `field.${field.code}` : `refusal.${error.code}`;
    if (i18n.has(key)) return t(key, error.details);
    return `${t('refusal.other')} (${error.message})`;
  }
  return t('refusal.other');
}

export function card(list, what, detail, action, onClick) {
  const item = document.createElement('li');
  const title = document.createElement('div');
  title.className = 'what';
  title.textContent = what;
  const line = document.createElement('div');
  line.textContent = detail;
  item.append(title, line);
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = action;
    button.addEventListener('click', onClick);
    item.append(button);
  }
  list.append(item);
  return item;
}
