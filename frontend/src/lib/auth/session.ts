//! The stored access token, and the signal that the server rejected it.

const TOKEN_KEY = 'opsflow.access_token';

type ExpiredListener = () => void;
const listeners = new Set<ExpiredListener>();

export const session = {
  getToken(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  setToken(token: string): void {
    localStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    localStorage.removeItem(TOKEN_KEY);
  },
  /** Called by the API client when a request carrying the token gets 401. */
  expire(): void {
    if (!session.getToken()) return;
    session.clear();
    listeners.forEach((listener) => listener());
  },
  onExpired(listener: ExpiredListener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
