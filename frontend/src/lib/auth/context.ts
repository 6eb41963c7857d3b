//! The auth context and its hook.
import { createContext, useContext } from 'react';
import type { AuthResponse, Tenant, User } from '../api/types';

export interface AuthState {
  status: 'loading' | 'authenticated' | 'anonymous' | 'error';
  user: User | null;
  tenant: Tenant | null;
  /** Why the user was sent to the login page (session expired, logged out). */
  notice: string | null;
  error: unknown;
}

export interface AuthContextValue extends AuthState {
  signIn(response: AuthResponse): void;
  /** Ends this session (or, with `everywhere`, every session of the user) and forgets it. */
  signOut(everywhere?: boolean): Promise<void>;
  retry(): Promise<void>;
  updateTenant(tenant: Tenant): void;
  updateUser(user: User): void;
}

export const AuthContext = createContext<AuthContextValue | null>(null);

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth must be used inside <AuthProvider>');
  return value;
}
