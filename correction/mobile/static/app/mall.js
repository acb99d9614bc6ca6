// Points: the balance, the ledger, the catalogue and orders; a redemption is sent with an Idempotency-Key,
// and a retry after a lost answer reuses it, so the server makes one order however often it is sent.
import { api, ApiError, NetworkError } from './api.js';
import * as i18n from './i18n.js';
import { $, card, explain, say } from './ui.js';

const { t } = i18n;
const RETRIES = 2;
const unanswered = new Map(); // item id -> the key of a redemption whose answer never came

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `redeem-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export async function redeem(itemId) {
  const key = unanswered.get(itemId) || newKey();
  unanswered.set(itemId, key);
  for (let attempt = 0; ; attempt += 1) {
    try {
      const order = await api('POST', '/me/orders', { body: { item_id: itemId }, headers: { 'Idempotency-Key': key } });
      unanswered.delete(itemId);
      return order;
    } catch (error) {
      const unsure = error instanceof NetworkError || (error instanceof ApiError && error.status >= 500);
      if (!unsure) unanswered.delete(itemId);
      if (!unsure || attempt >= RETRIES) throw error; // unsure: the next tap sends the same key again
      await new Promise((resolve) => { setTimeout(resolve, 500 * (attempt + 1)); });
    }
  }
}

function signed(delta) { return delta > 0 ? `+${delta}` : String(delta); }

export async function showPoints() {
  let balance; let ledger; let items; let orders;
  try {
    [balance, ledger, items, orders] = await Promise.all([
      api('GET', '/me/points'), api('GET', '/me/points/ledger?limit=20'), api('GET', '/mall/items?limit=100'),
      api('GET', '/me/orders?limit=20')]);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say(explain(error), 'error');
    return;
  }
  $('#balance').textContent = t('points.balance', { balance: balance.balance });
  $('#balance').dataset.balance = balance.balance;
  $('#month').textContent = t('points.month', { earned: balance.earned_this_month, spent: balance.spent_this_month });
  const names = new Map(items.items.map((item) => [item.id, item.name]));

  const catalogue = $('#items');
  catalogue.replaceChildren();
  for (const item of items.items.filter((i) => i.active)) {
    const detail = `${t('points.cost', { cost: item.cost })} · ${t('points.stock', { stock: item.stock })}`;
    const entry = card(catalogue, item.name, item.description ? `${detail} · ${item.description}` : detail,
      item.stock > 0 ? t('points.redeem') : null, async (event) => {
        const button = event.target;
        if (!button.dataset.confirming) { // a second tap confirms: points are not spent by a slip
          button.dataset.confirming = '1';
          button.textContent = t('points.confirm', { cost: item.cost });
          return;
        }
        button.disabled = true;
        try {
          await redeem(item.id);
          say(t('points.ordered', { name: item.name }));
        } catch (error) {
          say(explain(error), 'error');
        }
        await showPoints();
      });
    entry.id = `item-${item.id}`;
  }

  const orderList = $('#orders');
  orderList.replaceChildren();
  for (const order of orders.items) {
    const entry = card(orderList, names.get(order.item_id) || `#${order.item_id}`,
      `${t(`order.${order.status}`)} · ${signed(-order.cost)} · ${i18n.localTime(order.created_at)}`);
    entry.id = `order-${order.id}`;
  }
  $('#orders-empty').hidden = orders.items.length > 0;

  const lines = $('#ledger');
  lines.replaceChildren();
  for (const line of ledger.items) card(lines, `${signed(line.delta)} ${line.reason}`, i18n.localTime(line.created_at));
}
