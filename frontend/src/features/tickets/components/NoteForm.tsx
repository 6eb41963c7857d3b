import { Alert, Button, Group, Select, Stack, Text, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconLock } from '@tabler/icons-react';
import { useRef } from 'react';
import { errorMessage } from '@/lib/api/errors';
import type { TeamMember } from '@/lib/api/types';
import { applyFieldErrors } from '@/lib/forms';
import { LIMITS, required } from '@/lib/validation';
import { useCreateNote } from '../api/tickets';

/** An internal note for the team, with colleagues mentioned as `@Name`. */
export function NoteForm({ ticketId, users }: { ticketId: string; users: readonly TeamMember[] }) {
  const note = useCreateNote(ticketId);
  const area = useRef<HTMLTextAreaElement>(null);
  const form = useForm({
    mode: 'controlled',
    initialValues: { body: '' },
    validate: { body: required('Note', LIMITS.body) },
  });

  /** Inserts `@Name ` where the cursor is. */
  const mention = (userId: string | null) => {
    const who = users.find((u) => u.id === userId);
    if (!who) return;
    const text = form.values.body;
    const at = area.current?.selectionStart ?? text.length;
    const before = text.slice(0, at);
    const spacer = before && !/\s$/.test(before) ? ' ' : '';
    const inserted = `${spacer}@${who.name} `;
    form.setFieldValue('body', before + inserted + text.slice(at));
    requestAnimationFrame(() => {
      area.current?.focus();
      const caret = before.length + inserted.length;
      area.current?.setSelectionRange(caret, caret);
    });
  };

  const submit = form.onSubmit((values) =>
    note.mutate(values.body.trim(), {
      onSuccess: () => form.setValues({ body: '' }),
      onError: (error) => applyFieldErrors(form, error),
    }),
  );

  return (
    <form onSubmit={submit} noValidate aria-label="Internal note">
      <Stack gap="sm">
        {note.error && !Object.keys(form.errors).length && (
          <Alert color="red" role="alert">
            {errorMessage(note.error)}
          </Alert>
        )}
        <Group gap={6}>
          <IconLock size={14} aria-hidden />
          <Text size="sm" c="dimmed">
            Only your team sees notes. They are never sent to the customer.
          </Text>
        </Group>
        <Textarea
          ref={area}
          label="Note"
          placeholder="Add context for your colleagues… Mention someone with @"
          autosize
          minRows={3}
          maxRows={12}
          {...form.getInputProps('body')}
        />
        <Group justify="space-between" wrap="wrap">
          <Select
            aria-label="Mention a colleague"
            placeholder="Mention a colleague"
            data={users.filter((u) => u.active).map((u) => ({ value: u.id, label: u.name }))}
            value={null}
            onChange={mention}
            searchable
            w={220}
          />
          <Button type="submit" color="yellow" loading={note.isPending}>
            Add note
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
