//! Route guards: sign-in required, admin only, and sending signed-in users past the login page.
import { Center, Container } from '@mantine/core';
import { Navigate, Outlet, useLocation } from 'react-router';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { useAuth } from './context';

export interface LoginRedirectState {
  from?: string;
}

export function RequireAuth() {
  const auth = useAuth();
  const location = useLocation();
  if (auth.status === 'loading') return <PageLoader label="Loading your workspace…" />;
  if (auth.status === 'error')
    return (
      <Container size="sm" py="xl">
        <ErrorState error={auth.error} onRetry={() => void auth.retry()} />
      </Container>
    );
  if (auth.status !== 'authenticated') {
    const from = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to="/login" replace state={{ from } satisfies LoginRedirectState} />;
  }
  return <Outlet />;
}

/** Agents who open an admin page are sent to the tickets list. */
export function RequireAdmin() {
  const { user } = useAuth();
  if (user?.role !== 'admin') return <Navigate to="/tickets" replace state={{ denied: true }} />;
  return <Outlet />;
}

export function RedirectIfAuthenticated() {
  const auth = useAuth();
  const location = useLocation();
  if (auth.status === 'loading')
    return (
      <Center h="100vh">
        <PageLoader />
      </Center>
    );
  if (auth.status === 'authenticated') {
    const from = (location.state as LoginRedirectState | null)?.from;
    return <Navigate to={from && from.startsWith('/') ? from : '/tickets'} replace />;
  }
  return <Outlet />;
}
