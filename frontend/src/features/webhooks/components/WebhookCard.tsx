import { Alert, Badge, Button, Group, Modal, Paper, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { errorMessage } from '@/lib/api/errors';
import type { Webhook } from '@/lib/api/types';
import {
  useDeleteWebhook,
  useRotateWebhookSecret,
  useTestWebhook,
  useUpdateWebhook,
} from '../api/webhooks';
import { DeliveryLog } from './DeliveryLog';
import { SecretReveal } from './SecretReveal';

/** One endpoint: its state, actions, and its delivery log on demand. */
export function WebhookCard({ webhook }: { webhook: Webhook }) {
  const update = useUpdateWebhook();
  const remove = useDeleteWebhook();
  const rotate = useRotateWebhookSecret();
  const test = useTestWebhook();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [showLog, setShowLog] = useState(false);
  const failed = [update, rotate, test].find((m) => m.isError);

  return (
    <Paper withBorder p="md" radius="md" aria-label={`Webhook ${webhook.url}`} component="section">
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap">
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Text fw={600} style={{ wordBreak: 'break-all' }}>
              {webhook.url}
            </Text>
            {webhook.description && (
              <Text size="sm" c="dimmed">
                {webhook.description}
              </Text>
            )}
          </Stack>
          <Badge color={webhook.enabled ? 'teal' : 'gray'}>
            {webhook.enabled ? 'Enabled' : 'Disabled'}
          </Badge>
        </Group>
        <Group gap={4}>
          {webhook.events.map((e) => (
            <Badge key={e} variant="outline" size="sm">
              {e}
            </Badge>
          ))}
        </Group>
        {webhook.disabled_reason && (
          <Alert color="orange" title="Disabled automatically">
            {webhook.disabled_reason}
          </Alert>
        )}
        {secret && <SecretReveal secret={secret} onDone={() => setSecret(null)} />}
        {failed && (
          <Alert color="red" role="alert">
            {errorMessage(failed.error)}
          </Alert>
        )}
        {test.isSuccess && (
          <Text size="sm" c="teal">
            Test message queued.
          </Text>
        )}
        <Group gap="xs">
          <Button
            size="xs"
            variant="light"
            loading={update.isPending}
            onClick={() => update.mutate({ id: webhook.id, body: { enabled: !webhook.enabled } })}
          >
            {webhook.enabled ? 'Disable' : 'Enable'}
          </Button>
          <Button
            size="xs"
            variant="light"
            loading={test.isPending}
            onClick={() => test.mutate(webhook.id)}
          >
            Send test
          </Button>
          <Button
            size="xs"
            variant="light"
            loading={rotate.isPending}
            onClick={() => rotate.mutate(webhook.id, { onSuccess: (r) => setSecret(r.secret) })}
          >
            Rotate secret
          </Button>
          <Button size="xs" variant="default" onClick={() => setShowLog((v) => !v)}>
            {showLog ? 'Hide delivery log' : 'Delivery log'}
          </Button>
          <Button size="xs" variant="outline" color="red" onClick={() => setConfirmDelete(true)}>
            Delete
          </Button>
        </Group>
        {showLog && <DeliveryLog webhookId={webhook.id} />}
      </Stack>
      <Modal
        opened={confirmDelete}
        onClose={() => setConfirmDelete(false)}
        title="Delete this endpoint?"
      >
        <Stack gap="sm">
          <Text size="sm">
            Messages stop at once and its delivery log is deleted. This cannot be undone.
          </Text>
          {remove.isError && (
            <Alert color="red" role="alert">
              {errorMessage(remove.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirmDelete(false)}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={remove.isPending}
              onClick={() =>
                remove.mutate(webhook.id, { onSuccess: () => setConfirmDelete(false) })
              }
            >
              Delete endpoint
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
