// The app's strings: one JSON catalog per language (static/i18n), Chinese first, English by choice.
const LANGUAGES = ['zh', 'en'];
const CHOICE = 'app_language'; // a preference, not a secret: localStorage will do
const catalogs = {};
let current = 'zh';

export function preferred() {
  const chosen = localStorage.getItem(CHOICE);
  if (LANGUAGES.includes(chosen)) return chosen;
  const browser = (navigator.language || 'zh').toLowerCase();
  return browser.startsWith('en') ? 'en' : 'zh';
}

export async function use(language) {
  if (!catalogs[language]) {
    const response = await fetch(new URL(`../i18n/${language}.json`, import.meta.url));
    catalogs[language] = await response.json();
  }
  current = language;
  localStorage.setItem(CHOICE, language);
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((node) => { node.textContent = t(node.dataset.i18n); });
}

export const language = () => current;
export const other = () => (current === 'zh' ? 'en' : 'zh');
export const has = (key) => key in (catalogs[current] || {});

// The string for ``key`` with {name} placeholders filled from ``values``.
export function t(key, values = {}) {
  const text = (catalogs[current] || {})[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// A moment (ISO, UTC) as the supervisee's wall clock shows it, in ``zone`` (the phone's own by default).
export function localTime(iso, zone = undefined) {
  return new Intl.DateTimeFormat(current === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: zone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(new Date(iso));
}
