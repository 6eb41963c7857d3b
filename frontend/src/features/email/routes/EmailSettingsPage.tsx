//! Settings → Email: the workspace's support mailbox and its live status.
import { Divider, Paper, Stack, Text, Title } from '@mantine/core';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { SettingsTabs } from '@/components/SettingsTabs';
import { useEmailSettings, useMailboxStatus } from '../api/emailSettings';
import { EmailSettingsForm } from '../components/EmailSettingsForm';
import { InboundAddressCard } from '../components/InboundAddressCard';
import { MailboxStatusPanel } from '../components/MailboxStatusPanel';

export function EmailSettingsPage() {
  const settings = useEmailSettings();
  const status = useMailboxStatus();
  return (
    <Stack gap="md" maw={860}>
      <Title order={1} size="h2">
        Settings
      </Title>
      <SettingsTabs />
      <Text c="dimmed" size="sm">
        Connect the mailbox your customers write to. Use an app password where your provider offers
        one (Gmail, Google Workspace, Fastmail). Passwords are stored encrypted and never shown
        again.
      </Text>
      <Paper withBorder p="lg" radius="md">
        {settings.isPending ? (
          <PageLoader />
        ) : settings.isError ? (
          <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />
        ) : (
          <Stack>
            <EmailSettingsForm settings={settings.data} />
            <Divider />
            <MailboxStatusPanel
              status={status.data ?? settings.data.status}
              enabled={settings.data.enabled}
            />
          </Stack>
        )}
      </Paper>
      <InboundAddressCard />
    </Stack>
  );
}
