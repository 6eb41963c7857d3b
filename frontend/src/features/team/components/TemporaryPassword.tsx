import {
  ActionIcon,
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  Stack,
  Text,
  Tooltip,
} from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';

/**
 * A temporary password, shown once with a copy button. Used after adding a user and after an
 * admin resets someone's password: the server never shows it again.
 */
export function TemporaryPassword({
  title,
  email,
  password,
  onDone,
}: {
  title: string;
  email: string;
  password: string;
  onDone: () => void;
}) {
  return (
    <Stack>
      <Alert color="teal" title={title}>
        Give them this temporary password. It is shown only once and cannot be seen again.
      </Alert>
      <Group gap="xs" wrap="nowrap">
        <Code
          fz="md"
          p="xs"
          data-testid="temporary-password"
          style={{ flex: 1, overflowWrap: 'anywhere' }}
        >
          {password}
        </Code>
        <CopyButton value={password}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? 'Copied' : 'Copy password'} withArrow>
              <ActionIcon
                variant="light"
                color={copied ? 'teal' : 'indigo'}
                onClick={copy}
                aria-label={copied ? 'Copied' : 'Copy password'}
                size="lg"
              >
                {copied ? <IconCheck size={18} /> : <IconCopy size={18} />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
      <Text size="sm" c="dimmed">
        They log in with {email} and this password, then choose their own.
      </Text>
      <Group justify="flex-end">
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}
