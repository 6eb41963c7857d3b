//! Auth state in one place: the current user, tenant and token, and how they change.
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { api, unwrap } from '../api/client';
import { ApiError } from '../api/errors';
import type { AuthResponse, Tenant, User } from '../api/types';
import { AuthContext, type AuthState } from './context';
import { session } from './session';

export const SESSION_EXPIRED_MESSAGE = 'Your session has expired. Please log in again.';

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<AuthState>(() =>
    session.getToken()
      ? { status: 'loading', user: null, tenant: null, notice: null, error: null }
      : { status: 'anonymous', user: null, tenant: null, notice: null, error: null },
  );

  const loadMe = useCallback(async () => {
    setState((s) => ({ ...s, status: 'loading', error: null }));
    try {
      const me = await unwrap(api.GET('/auth/me'));
      setState({
        status: 'authenticated',
        user: me.user,
        tenant: me.tenant,
        notice: null,
        error: null,
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        session.clear();
        setState({
          status: 'anonymous',
          user: null,
          tenant: null,
          notice: SESSION_EXPIRED_MESSAGE,
          error: null,
        });
      } else {
        setState((s) => ({ ...s, status: 'error', error }));
      }
    }
  }, []);

  useEffect(() => {
    if (session.getToken()) void loadMe();
  }, [loadMe]);

  useEffect(
    () =>
      session.onExpired(() => {
        queryClient.clear();
        setState({
          status: 'anonymous',
          user: null,
          tenant: null,
          notice: SESSION_EXPIRED_MESSAGE,
          error: null,
        });
      }),
    [queryClient],
  );

  const signIn = useCallback(
    (response: AuthResponse) => {
      queryClient.clear();
      session.setToken(response.access_token);
      setState({
        status: 'authenticated',
        user: response.user,
        tenant: response.tenant,
        notice: null,
        error: null,
      });
    },
    [queryClient],
  );

  const signOut = useCallback(
    async (everywhere = false) => {
      // End the session on the server first (it needs the token), then forget the token even if
      // the server could not be reached.
      try {
        await (everywhere ? api.POST('/auth/logout-all') : api.POST('/auth/logout'));
      } catch {
        // Offline: the token is still dropped locally below.
      }
      session.clear();
      queryClient.clear();
      setState({
        status: 'anonymous',
        user: null,
        tenant: null,
        notice: 'You have been logged out.',
        error: null,
      });
    },
    [queryClient],
  );

  const updateTenant = useCallback((tenant: Tenant) => {
    setState((s) => ({ ...s, tenant }));
  }, []);

  const updateUser = useCallback((user: User) => {
    setState((s) => (s.user?.id === user.id ? { ...s, user } : s));
  }, []);

  const value = useMemo(
    () => ({ ...state, signIn, signOut, retry: loadMe, updateTenant, updateUser }),
    [state, signIn, signOut, loadMe, updateTenant, updateUser],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
