//! Every route, and where features are composed together.
import { Button, Center, Stack, Text, Title } from '@mantine/core';
import { lazy, type ReactNode, Suspense } from 'react';
import { Link, Navigate, Route, Routes } from 'react-router';
import { AppLayout } from '@/components/AppLayout';
import { ChangePasswordPage, RequireOwnPassword } from '@/features/auth/routes/ChangePasswordPage';
import { LoginPage } from '@/features/auth/routes/LoginPage';
import { SignupPage } from '@/features/auth/routes/SignupPage';
import { TicketDetailPage } from '@/features/tickets/routes/TicketDetailPage';
import { TicketsListPage } from '@/features/tickets/routes/TicketsListPage';
import { TriagePanel } from '@/features/triage/components/TriagePanel';
import { PageLoader } from '@/components/QueryState';
import { RedirectIfAuthenticated, RequireAdmin, RequireAuth } from '@/lib/auth/guards';

// Pages used less often load on demand, keeping the first load to login and tickets.
const TeamPage = lazy(() =>
  import('@/features/team/routes/TeamPage').then((m) => ({ default: m.TeamPage })),
);
const SettingsPage = lazy(() =>
  import('@/features/settings/routes/SettingsPage').then((m) => ({ default: m.SettingsPage })),
);
const AiSettingsPage = lazy(() =>
  import('@/features/settings/routes/AiSettingsPage').then((m) => ({ default: m.AiSettingsPage })),
);
const PoliciesSettingsPage = lazy(() =>
  import('@/features/settings/routes/PoliciesSettingsPage').then((m) => ({
    default: m.PoliciesSettingsPage,
  })),
);
const EmailSettingsPage = lazy(() =>
  import('@/features/email/routes/EmailSettingsPage').then((m) => ({
    default: m.EmailSettingsPage,
  })),
);
const WebhooksPage = lazy(() =>
  import('@/features/webhooks/routes/WebhooksPage').then((m) => ({ default: m.WebhooksPage })),
);
const AuditLogPage = lazy(() =>
  import('@/features/audit/routes/AuditLogPage').then((m) => ({ default: m.AuditLogPage })),
);
const WorkflowHistoryPage = lazy(() =>
  import('@/features/triage/routes/WorkflowHistoryPage').then((m) => ({
    default: m.WorkflowHistoryPage,
  })),
);

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<PageLoader />}>{children}</Suspense>;
}

function NotFound() {
  return (
    <Center py="xl">
      <Stack align="center" gap="xs">
        <Title order={1} size="h2">
          Page not found
        </Title>
        <Text c="dimmed">There is nothing at this address.</Text>
        <Button component={Link} to="/tickets" variant="light">
          Go to tickets
        </Button>
      </Stack>
    </Center>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<RedirectIfAuthenticated />}>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/signup" element={<SignupPage />} />
      </Route>
      <Route element={<RequireAuth />}>
        <Route element={<RequireOwnPassword />}>
          <Route element={<AppLayout />}>
            <Route path="/account/password" element={<ChangePasswordPage />} />
            <Route index element={<Navigate to="/tickets" replace />} />
            <Route path="/tickets" element={<TicketsListPage />} />
            <Route
              path="/tickets/:id"
              element={
                <TicketDetailPage
                  aside={({ detail, users }) => (
                    <TriagePanel key={detail.ticket.id} detail={detail} users={users} />
                  )}
                />
              }
            />
            <Route
              path="/tickets/:id/workflows/:runId?"
              element={
                <Page>
                  <WorkflowHistoryPage />
                </Page>
              }
            />
            <Route element={<RequireAdmin />}>
              <Route
                path="/team"
                element={
                  <Page>
                    <TeamPage />
                  </Page>
                }
              />
              <Route
                path="/settings"
                element={
                  <Page>
                    <SettingsPage />
                  </Page>
                }
              />
              <Route
                path="/settings/policies"
                element={
                  <Page>
                    <PoliciesSettingsPage />
                  </Page>
                }
              />
              <Route
                path="/settings/ai"
                element={
                  <Page>
                    <AiSettingsPage />
                  </Page>
                }
              />
              <Route
                path="/settings/email"
                element={
                  <Page>
                    <EmailSettingsPage />
                  </Page>
                }
              />
              <Route
                path="/settings/webhooks"
                element={
                  <Page>
                    <WebhooksPage />
                  </Page>
                }
              />
              <Route
                path="/settings/audit"
                element={
                  <Page>
                    <AuditLogPage />
                  </Page>
                }
              />
            </Route>
            <Route path="*" element={<NotFound />} />
          </Route>
        </Route>
      </Route>
    </Routes>
  );
}
