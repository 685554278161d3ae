// The JSON API, called from the page itself: same origin, so the browser
// sends the `token` cookie and the Origin header the server's cross-site
// rule asks for. Errors carry the API's own sentence (docs/API.md, Errors).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function nextLink(header) {
  const match = header && header.match(/<([^>]+)>\s*;\s*rel="next"/);
  return match ? match[1] : null;
}

// Resolves to {data, next}: `next` is the URL of the following page (Link rel="next") or null.
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Check the connection and try again.');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const sentence = data && typeof data.error === 'string' ? data.error : `The server answered ${response.status}.`;
    throw new ApiError(response.status, (data && data.code) || `http_${response.status}`, sentence);
  }
  return { data, next: nextLink(response.headers.get('Link')) };
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

// For parts of the API that a server may not have yet (share links, the
// funnel): a route that does not exist (404 not_found) resolves to null, so
// the page hides that part instead of showing an error.
export async function optional(path) {
  try {
    return await get(path);
  } catch (error) {
    if (error.status === 404 && error.code === 'not_found') return null;
    throw error;
  }
}

// Every item of a paginated list, following Link rel="next" (for the small
// lists an operator acts on, such as one referral's rewards).
export async function all(path) {
  const items = [];
  for (let url = path; url; ) {
    const page = await get(url);
    items.push(...page.data);
    url = page.next;
  }
  return items;
}

export const query = (params) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
};
