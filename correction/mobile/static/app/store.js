// What the app keeps on the phone, in IndexedDB: the device id, the token, and check-ins waiting to be sent.
const NAME = 'correction-app';
let opened;

function open() {
  opened ||= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore('kv');
      request.result.createObjectStore('outbox', { keyPath: 'id', autoIncrement: true });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(store, mode, action) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = action(tx.objectStore(store));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const get = (key) => run('kv', 'readonly', (s) => s.get(key));
export const set = (key, value) => run('kv', 'readwrite', (s) => s.put(value, key));
export const remove = (key) => run('kv', 'readwrite', (s) => s.delete(key));
export const outbox = () => run('outbox', 'readonly', (s) => s.getAll());
export const post = (item) => run('outbox', 'readwrite', (s) => s.add(item));
export const done = (id) => run('outbox', 'readwrite', (s) => s.delete(id));

// This phone's id for device binding: made once, on the first start, and kept (logging out keeps it).
export async function deviceId() {
  let id = await get('device_id');
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = `pwa-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    await set('device_id', id);
  }
  return id;
}
