import { Paper, Stack, Title } from '@mantine/core';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { SettingsTabs } from '@/components/SettingsTabs';
import { useReplyPolicies } from '../api/policies';
import { ReplyPoliciesForm } from '../components/ReplyPoliciesForm';

export function PoliciesSettingsPage() {
  const settings = useReplyPolicies();
  return (
    <Stack gap="md" maw={760}>
      <Title order={1} size="h2">
        Settings
      </Title>
      <SettingsTabs />
      <Paper withBorder p="lg" radius="md">
        {settings.isPending ? (
          <PageLoader />
        ) : settings.isError ? (
          <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />
        ) : (
          <ReplyPoliciesForm settings={settings.data} />
        )}
      </Paper>
    </Stack>
  );
}
