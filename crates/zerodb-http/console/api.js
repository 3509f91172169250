// The REST API as the console uses it. The bearer token lives in this module's memory
// only: never in storage, cookies or URLs. A reload signs the user out.

let token = null;

export const session = { user: null };

export function signIn(accessToken, user) {
  token = accessToken;
  session.user = user;
}

export function signOut() {
  token = null;
  session.user = null;
}

export function signedIn() {
  return token !== null;
}

/** An error answer of the API: its HTTP status, stable code and message. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function headers(extra = {}) {
  const h = { ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

/** `?a=1&b=2` from the non-empty entries of `params`. */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function failure(res) {
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the status line stands for the message.
  }
  const e = body && body.error;
  if (res.status === 401 && token) {
    signOut();
    window.dispatchEvent(new Event('zerodb:signed-out'));
  }
  return new ApiError(
    res.status,
    e ? e.code : `http_${res.status}`,
    e ? e.message : text || res.statusText,
    e ? e.details : undefined,
  );
}

/** Calls `/api/v1{path}`; answers the parsed JSON (null for 204). */
export async function api(method, path, body, { signal } = {}) {
  const init = { method, headers: headers(), signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/api/v1${path}`, init);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, params) => api('GET', path + query(params));
export const post = (path, body) => api('POST', path, body ?? {});
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path, body) => api('DELETE', path, body);

/** Fetches `path` with the token and saves the answer as `fileName`. */
export async function download(path, fileName) {
  const res = await fetch(`/api/v1${path}`, { headers: headers() });
  if (!res.ok) throw await failure(res);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob;
}

/** Uploads `file` as the raw body; `onProgress(fraction)` as bytes leave. */
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1${path}`);
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
      } else {
        const e = body && body.error;
        reject(new ApiError(xhr.status, e ? e.code : `http_${xhr.status}`,
          e ? e.message : xhr.statusText, e ? e.details : undefined));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'the upload did not complete'));
    xhr.send(file);
  });
}

/**
 * Follows a Server-Sent Events endpoint with the token (EventSource cannot send one) and
 * calls `onFrame({id, event, data})` per frame until `signal` aborts.
 */
export async function stream(path, signal, onFrame) {
  const res = await fetch(`/api/v1${path}`, {
    headers: headers({ Accept: 'text/event-stream' }),
    signal,
  });
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame = { id: null, event: 'message', data: '' };
      for (const line of raw.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') frame.id = val;
        else if (field === 'event') frame.event = val;
        else if (field === 'data') frame.data += (frame.data ? '\n' : '') + val;
      }
      if (frame.data) onFrame(frame);
    }
  }
}
