//! Renders a component with the app's providers, a signed-in user and an in-memory router.
import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { theme } from '@/app/theme';
import type { Tenant, User } from '@/lib/api/types';
import { AuthContext, type AuthContextValue } from '@/lib/auth/context';
import { vi } from 'vitest';
import { admin, tenant as defaultTenant } from './fixtures';

export function LocationProbe() {
  const location = useLocation();
  return <div data-testid="location">{`${location.pathname}${location.search}`}</div>;
}

export interface RenderOptions {
  user?: User | null;
  tenant?: Tenant;
  route?: string;
  path?: string;
  auth?: Partial<AuthContextValue>;
}

export function renderWithApp(ui: ReactElement, options: RenderOptions = {}) {
  const client = new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } },
  });
  const user = options.user === undefined ? admin : options.user;
  const auth: AuthContextValue = {
    status: user ? 'authenticated' : 'anonymous',
    user,
    tenant: user ? (options.tenant ?? defaultTenant) : null,
    notice: null,
    error: null,
    signIn: vi.fn(),
    signOut: vi.fn(() => Promise.resolve()),
    retry: vi.fn(async () => {}),
    updateTenant: vi.fn(),
    updateUser: vi.fn(),
    ...options.auth,
  };
  const result = render(
    <MantineProvider theme={theme} env="test">
      <QueryClientProvider client={client}>
        <AuthContext.Provider value={auth}>
          <MemoryRouter initialEntries={[options.route ?? '/']}>
            <Routes>
              <Route path={options.path ?? '*'} element={ui} />
            </Routes>
            <LocationProbe />
          </MemoryRouter>
        </AuthContext.Provider>
      </QueryClientProvider>
    </MantineProvider>,
  );
  return { ...result, client, auth, user: userEvent.setup() };
}
