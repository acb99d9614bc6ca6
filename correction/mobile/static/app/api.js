// The public API (/api/v1) with the supervisee's bearer token, held here in memory (and in IndexedDB by main.js).
let token = null;
let onUnauthorized = () => {};

export class NetworkError extends Error {}

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.details = error.details || {};
  }
}

export function setToken(value) { token = value; }
export function whenUnauthorized(callback) { onUnauthorized = callback; }

// Send a request; the parsed answer, the raw Response (``raw``), or an ApiError / NetworkError.
export async function api(method, path, { body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { ...headers }, cache: 'no-store', credentials: 'omit' };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (error) {
    throw new NetworkError(error.message);
  }
  if (!response.ok) {
    let error = { code: `http_${response.status}`, message: response.statusText };
    try { error = (await response.json()).error || error; } catch { /* not our error shape */ }
    const failure = new ApiError(response.status, error);
    if (response.status === 401 && token) onUnauthorized(failure);
    throw failure;
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}
