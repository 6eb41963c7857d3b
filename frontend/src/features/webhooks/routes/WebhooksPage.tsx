//! Settings → Webhooks: signed webhook endpoints, their secrets (shown once) and delivery logs.
import { Paper, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { SettingsTabs } from '@/components/SettingsTabs';
import { useWebhooks } from '../api/webhooks';
import { AddWebhookForm } from '../components/AddWebhookForm';
import { SecretReveal } from '../components/SecretReveal';
import { WebhookCard } from '../components/WebhookCard';

export function WebhooksPage() {
  const webhooks = useWebhooks();
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <Stack gap="md" maw={960}>
      <Title order={1} size="h2">
        Settings
      </Title>
      <SettingsTabs />
      <Text c="dimmed" size="sm">
        Send ticket events to your own systems. Each message is a JSON POST signed per Standard
        Webhooks (<code>webhook-id</code>, <code>webhook-timestamp</code>,{' '}
        <code>webhook-signature</code>); failed messages are retried with backoff, and an endpoint
        that keeps failing is disabled.
      </Text>
      <Paper withBorder p="lg" radius="md">
        <Stack gap="sm">
          <Title order={2} size="h4">
            Add endpoint
          </Title>
          {secret && <SecretReveal secret={secret} onDone={() => setSecret(null)} />}
          <AddWebhookForm onCreated={setSecret} />
        </Stack>
      </Paper>
      {webhooks.isPending ? (
        <PageLoader />
      ) : webhooks.isError ? (
        <ErrorState error={webhooks.error} onRetry={() => void webhooks.refetch()} />
      ) : webhooks.data.length === 0 ? (
        <Text c="dimmed">No endpoints yet.</Text>
      ) : (
        webhooks.data.map((w) => <WebhookCard key={w.id} webhook={w} />)
      )}
    </Stack>
  );
}
