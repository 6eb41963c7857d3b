//! The support mailbox form: incoming (IMAP) and outgoing (SMTP) servers, the sender, the on/off
//! switch, and "Test connection" for the saved settings.
import {
  Alert,
  Button,
  Group,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { errorMessage } from '@/lib/api/errors';
import type { EmailSettings, EmailSettingsInput, MailSecurity } from '@/lib/api/types';
import { applyFieldErrors } from '@/lib/forms';
import { email, required } from '@/lib/validation';
import { useSaveEmailSettings, useTestEmailSettings } from '../api/emailSettings';
import { ConnectionTestResult } from './ConnectionTestResult';
import { PasswordField, type PasswordMode } from './PasswordField';

const SECURITY: { value: MailSecurity; label: string }[] = [
  { value: 'tls', label: 'TLS (SSL)' },
  { value: 'starttls', label: 'STARTTLS' },
  { value: 'none', label: 'None (unencrypted, trusted network only)' },
];

/** The server's field names (`imap.host`) on the form's fields. */
const FIELD_ALIASES: Record<string, string> = {
  'imap.host': 'imapHost',
  'imap.port': 'imapPort',
  'imap.security': 'imapSecurity',
  'imap.username': 'imapUsername',
  'imap.password': 'imapPassword',
  'imap.folder': 'imapFolder',
  'smtp.host': 'smtpHost',
  'smtp.port': 'smtpPort',
  'smtp.security': 'smtpSecurity',
  'smtp.username': 'smtpUsername',
  'smtp.password': 'smtpPassword',
  from_address: 'fromAddress',
  from_name: 'fromName',
};

function host(label: string) {
  return (value: string) => {
    const trimmed = value.trim();
    if (!trimmed) return `${label} is required`;
    if (trimmed.length > 253) return `${label} must be at most 253 characters`;
    if (/[\s/@]/.test(trimmed)) return `${label} must be a host name without spaces`;
    return null;
  };
}

function port(label: string) {
  return (value: number | string) => {
    const n = Number(value);
    return value !== '' && Number.isInteger(n) && n >= 1 && n <= 65535
      ? null
      : `${label} must be a number from 1 to 65535`;
  };
}

function valuesOf(s: EmailSettings) {
  return {
    enabled: s.enabled,
    imapHost: s.imap.host,
    imapPort: s.imap.port as number | string,
    imapSecurity: s.imap.security as string,
    imapUsername: s.imap.username,
    imapPassword: '',
    imapFolder: s.imap.folder,
    smtpHost: s.smtp.host,
    smtpPort: s.smtp.port as number | string,
    smtpSecurity: s.smtp.security as string,
    smtpUsername: s.smtp.username,
    smtpPassword: '',
    fromAddress: s.from_address,
    fromName: s.from_name,
  };
}

type Values = ReturnType<typeof valuesOf>;

/** The password to send: omitted keeps the stored one, `''` removes it. */
function passwordField(mode: PasswordMode, isSet: boolean, typed: string): string | undefined {
  if (mode === 'clear') return '';
  if (isSet && mode === 'keep') return undefined;
  return typed ? typed : undefined;
}

function toInput(
  v: Values,
  settings: EmailSettings,
  modes: { imap: PasswordMode; smtp: PasswordMode },
): EmailSettingsInput {
  const imapPassword = passwordField(modes.imap, settings.imap.password_set, v.imapPassword);
  const smtpPassword = passwordField(modes.smtp, settings.smtp.password_set, v.smtpPassword);
  return {
    enabled: v.enabled,
    imap: {
      host: v.imapHost.trim(),
      port: Number(v.imapPort),
      security: v.imapSecurity,
      username: v.imapUsername.trim(),
      folder: v.imapFolder.trim(),
      ...(imapPassword === undefined ? {} : { password: imapPassword }),
    },
    smtp: {
      host: v.smtpHost.trim(),
      port: Number(v.smtpPort),
      security: v.smtpSecurity,
      username: v.smtpUsername.trim(),
      ...(smtpPassword === undefined ? {} : { password: smtpPassword }),
    },
    from_address: v.fromAddress.trim(),
    from_name: v.fromName.trim(),
  };
}

export function EmailSettingsForm({ settings }: { settings: EmailSettings }) {
  const save = useSaveEmailSettings();
  const test = useTestEmailSettings();
  const [modes, setModes] = useState<{ imap: PasswordMode; smtp: PasswordMode }>({
    imap: 'keep',
    smtp: 'keep',
  });
  const form = useForm<Values>({
    mode: 'controlled',
    initialValues: valuesOf(settings),
    validate: {
      imapHost: host('IMAP server'),
      imapPort: port('IMAP port'),
      imapUsername: required('IMAP username', 320),
      imapFolder: required('Folder', 200),
      smtpHost: host('SMTP server'),
      smtpPort: port('SMTP port'),
      fromAddress: email,
      fromName: required('Sender name', 100),
    },
  });
  const dirty = form.isDirty() || modes.imap !== 'keep' || modes.smtp !== 'keep';

  const submit = form.onSubmit((values) =>
    save.mutate(toInput(values, settings, modes), {
      onSuccess: (next) => {
        form.setInitialValues(valuesOf(next));
        form.reset();
        setModes({ imap: 'keep', smtp: 'keep' });
        test.reset();
      },
      onError: (error) => applyFieldErrors(form, error, FIELD_ALIASES),
    }),
  );

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {save.error && !Object.keys(form.errors).length && (
          <Alert color="red" role="alert">
            {errorMessage(save.error)}
          </Alert>
        )}
        <Switch
          label="Read and send mail through this mailbox"
          description="Off by default. When on, new mail becomes tickets and replies are emailed."
          {...form.getInputProps('enabled', { type: 'checkbox' })}
        />

        <Title order={2} size="h4">
          Incoming mail (IMAP)
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput
            label="IMAP server"
            placeholder="imap.example.com"
            required
            {...form.getInputProps('imapHost')}
          />
          <NumberInput
            label="IMAP port"
            required
            min={1}
            max={65535}
            allowDecimal={false}
            {...form.getInputProps('imapPort')}
          />
          <Select
            label="IMAP security"
            data={SECURITY}
            allowDeselect={false}
            {...form.getInputProps('imapSecurity')}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="IMAP username"
            required
            autoComplete="off"
            {...form.getInputProps('imapUsername')}
          />
          <PasswordField
            label="IMAP password"
            isSet={settings.imap.password_set}
            mode={modes.imap}
            onModeChange={(imap) => setModes((m) => ({ ...m, imap }))}
            inputProps={form.getInputProps('imapPassword')}
          />
        </SimpleGrid>
        <TextInput
          label="Folder"
          description="The folder new support mail arrives in."
          required
          {...form.getInputProps('imapFolder')}
        />

        <Title order={2} size="h4">
          Outgoing mail (SMTP)
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput
            label="SMTP server"
            placeholder="smtp.example.com"
            required
            {...form.getInputProps('smtpHost')}
          />
          <NumberInput
            label="SMTP port"
            required
            min={1}
            max={65535}
            allowDecimal={false}
            {...form.getInputProps('smtpPort')}
          />
          <Select
            label="SMTP security"
            data={SECURITY}
            allowDeselect={false}
            {...form.getInputProps('smtpSecurity')}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="SMTP username"
            description="Leave empty if the server needs no login."
            autoComplete="off"
            {...form.getInputProps('smtpUsername')}
          />
          <PasswordField
            label="SMTP password"
            isSet={settings.smtp.password_set}
            mode={modes.smtp}
            onModeChange={(smtp) => setModes((m) => ({ ...m, smtp }))}
            inputProps={form.getInputProps('smtpPassword')}
          />
        </SimpleGrid>

        <Title order={2} size="h4">
          Sender
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="From address"
            placeholder="support@example.com"
            required
            {...form.getInputProps('fromAddress')}
          />
          <TextInput
            label="Sender name"
            placeholder="Acme Support"
            required
            {...form.getInputProps('fromName')}
          />
        </SimpleGrid>

        <Group justify="space-between">
          <Group gap="xs">
            <Button
              variant="default"
              onClick={() => test.mutate()}
              loading={test.isPending}
              disabled={!settings.configured || dirty}
            >
              Test connection
            </Button>
            <Text size="xs" c="dimmed">
              {!settings.configured
                ? 'Save the settings first, then test them.'
                : dirty
                  ? 'Save your changes to test them.'
                  : 'Tests the saved settings.'}
            </Text>
          </Group>
          <Group gap="xs">
            {save.isSuccess && !dirty && (
              <Text size="sm" c="teal" role="status">
                Email settings saved
              </Text>
            )}
            <Button type="submit" loading={save.isPending} disabled={!dirty}>
              Save
            </Button>
          </Group>
        </Group>
        {test.error && (
          <Alert color="red" role="alert">
            {errorMessage(test.error)}
          </Alert>
        )}
        {test.data && <ConnectionTestResult result={test.data} />}
      </Stack>
    </form>
  );
}
