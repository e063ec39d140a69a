// Where the client keeps the session. Any object with getItem, setItem and
// removeItem (synchronous or returning promises) will do: the Web Storage
// API (localStorage, sessionStorage), React Native's AsyncStorage, an
// adapter for a keychain (docs/clients/react-native.md). The default keeps
// tokens in memory only: nothing to steal from storage, nothing survives a
// reload.

/**
 * @typedef {object} TokenStore
 * @property {(key: string) => (string | null | undefined | Promise<string | null | undefined>)} getItem
 * @property {(key: string, value: string) => (void | Promise<void>)} setItem
 * @property {(key: string) => (void | Promise<void>)} removeItem
 */

/**
 * A store that keeps its items in this object only.
 * @returns {TokenStore}
 */
export function memoryStore() {
  /** @type {Map<string, string>} */
  const items = new Map();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => { items.set(key, value); },
    removeItem: (key) => { items.delete(key); },
  };
}
