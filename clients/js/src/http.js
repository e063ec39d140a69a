// One JSON request with a deadline, for the broker and for Cognito.

import { NetworkError } from './errors.js';

/**
 * @typedef {object} JSONAnswer
 * @property {number} status
 * @property {unknown} body the parsed JSON, or undefined when the answer was not JSON
 * @property {string} text the answer as it came
 */

/**
 * @param {typeof fetch} fetchFn
 * @param {string} url
 * @param {{method?: string, headers?: Record<string, string>, body?: unknown, timeoutMs: number}} req
 * @returns {Promise<JSONAnswer>}
 */
export async function requestJSON(fetchFn, url, req) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), req.timeoutMs);
  let res;
  let text;
  try {
    res = await fetchFn(url, {
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: controller.signal,
    });
    text = await res.text();
  } catch (cause) {
    const what = controller.signal.aborted ? `no answer within ${req.timeoutMs} ms` : 'the request failed';
    throw new NetworkError(`${new URL(url).host}: ${what}.`, { cause });
  } finally {
    clearTimeout(timer);
  }
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}
