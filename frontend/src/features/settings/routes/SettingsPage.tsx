import { Paper, Stack, Title } from '@mantine/core';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { SettingsTabs } from '@/components/SettingsTabs';
import { useTenant } from '../api/tenant';
import { SettingsForm } from '../components/SettingsForm';

export function SettingsPage() {
  const tenant = useTenant();
  return (
    <Stack gap="md" maw={760}>
      <Title order={1} size="h2">
        Settings
      </Title>
      <SettingsTabs />
      <Paper withBorder p="lg" radius="md">
        {tenant.isPending ? (
          <PageLoader />
        ) : tenant.isError ? (
          <ErrorState error={tenant.error} onRetry={() => void tenant.refetch()} />
        ) : (
          <SettingsForm key={tenant.data.id} tenant={tenant.data} />
        )}
      </Paper>
    </Stack>
  );
}
