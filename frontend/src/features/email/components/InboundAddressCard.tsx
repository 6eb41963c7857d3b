import {
  Alert,
  Button,
  CopyButton,
  Group,
  Modal,
  Paper,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { errorMessage } from '@/lib/api/errors';
import { useInboundAddress, useRotateInboundAddress } from '../api/inbound';

function megabytes(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MB`;
}

/**
 * The workspace's inbound email address: where a mail server or forwarding service posts each
 * raw message (it becomes a ticket, or joins the ticket it answers). Copy it, or rotate it when
 * it may have leaked.
 */
export function InboundAddressCard() {
  const address = useInboundAddress();
  const rotate = useRotateInboundAddress();
  const [confirming, setConfirming] = useState(false);
  const url = address.data ? `${window.location.origin}${address.data.path}` : '';

  return (
    <Paper withBorder p="lg" radius="md">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Inbound email address
        </Title>
        <Text size="sm" c="dimmed">
          Point your mail provider&apos;s forwarding (or an MTA pipe) at this address with the raw
          message as <code>message/rfc822</code>: each email becomes a ticket, and replies join
          their ticket. Anyone who has it can file tickets, so keep it private.
        </Text>
        {address.isPending ? (
          <PageLoader />
        ) : address.isError ? (
          <ErrorState error={address.error} onRetry={() => void address.refetch()} />
        ) : (
          <>
            <Group gap="xs" wrap="nowrap" align="flex-end">
              <TextInput
                label="Inbound email address"
                value={url}
                readOnly
                style={{ flex: 1 }}
                onFocus={(event) => event.currentTarget.select()}
              />
              <CopyButton value={url}>
                {({ copied, copy }) => (
                  <Button variant="light" onClick={copy} color={copied ? 'teal' : undefined}>
                    {copied ? 'Copied' : 'Copy'}
                  </Button>
                )}
              </CopyButton>
            </Group>
            <Text size="xs" c="dimmed">
              Messages up to {megabytes(address.data.max_message_bytes)} are accepted.
            </Text>
            <Group>
              <Button variant="outline" color="red" onClick={() => setConfirming(true)}>
                Rotate address
              </Button>
            </Group>
          </>
        )}
      </Stack>
      <Modal
        opened={confirming}
        onClose={() => setConfirming(false)}
        title="Rotate the inbound address?"
      >
        <Stack gap="sm">
          <Text size="sm">
            The current address stops working at once: mail forwarded to it is refused until you
            update your forwarding with the new address.
          </Text>
          {rotate.isError && (
            <Alert color="red" role="alert">
              {errorMessage(rotate.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={rotate.isPending}
              onClick={() => rotate.mutate(undefined, { onSuccess: () => setConfirming(false) })}
            >
              Rotate now
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
