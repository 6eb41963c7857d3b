import { Alert, Badge, Button, Group, Stack, Text, Textarea } from '@mantine/core';
import { IconAlertTriangle, IconInfoCircle } from '@tabler/icons-react';
import { notifications } from '@mantine/notifications';
import { useEffect, useState } from 'react';
import { useConfirmLeave } from '@/lib/confirmLeave';
import { errorMessage, needsConfirmation } from '@/lib/api/errors';
import { GuardrailWarning } from '@/components/GuardrailWarning';
import type { Reply } from '@/lib/api/types';
import { replySavedNotice } from '@/lib/delivery';
import { LIMITS } from '@/lib/validation';
import { useSaveDraft, useSendDraft } from '../api/triage';
import { GUARDRAIL_LABELS } from './steps';

export const APPROVAL_HINT = "You're responsible for final approval of AI replies.";

/**
 * The AI draft, editable, with its guardrail flags and the two ways to keep it. The parent keys it
 * by draft id, so a new run's draft replaces the text and a saved edit does not.
 */
export function DraftEditor({
  ticketId,
  draft,
  flags,
  onDirtyChange,
}: {
  ticketId: string;
  draft: Reply;
  flags: readonly string[];
  /** Told whether the text has edits that are not saved yet. */
  onDirtyChange?: (dirty: boolean) => void;
}) {
  const [body, setBody] = useState(draft.body);
  const dirty = body !== draft.body;
  useConfirmLeave(dirty);
  useEffect(() => onDirtyChange?.(dirty), [dirty, onDirtyChange]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const save = useSaveDraft(ticketId);
  const send = useSendDraft(ticketId);

  const validate = (): string | null => {
    const trimmed = body.trim();
    if (!trimmed) return 'Reply is required';
    if (trimmed.length > LIMITS.body)
      return `Reply must be at most ${LIMITS.body.toLocaleString('en-US')} characters`;
    return null;
  };

  const flagged = needsConfirmation(send.error);

  const run = (action: 'save' | 'send', confirm = false) => {
    const problem = validate();
    setError(problem);
    setSaved(false);
    if (problem) return;
    if (action === 'save')
      save.mutate({ replyId: draft.id, body: body.trim() }, { onSuccess: () => setSaved(true) });
    else
      send.mutate(
        { draftId: draft.id, body: body.trim(), confirm },
        {
          onSuccess: (saved) => notifications.show({ color: 'teal', ...replySavedNotice(saved) }),
        },
      );
  };

  const mutationError = save.error ?? (flagged ? null : send.error);
  const busy = save.isPending || send.isPending;

  return (
    <Stack gap="sm">
      {flags.length > 0 && (
        <Alert
          color="orange"
          icon={<IconAlertTriangle size={18} />}
          title="Check this draft before sending"
          data-testid="guardrail-flags"
        >
          <Stack gap={4}>
            {flags.map((flag) => (
              <Group key={flag} gap="xs" wrap="nowrap">
                <Badge color="orange" variant="filled" style={{ flexShrink: 0 }}>
                  {GUARDRAIL_LABELS[flag]?.title ?? flag}
                </Badge>
                <Text size="xs">
                  {GUARDRAIL_LABELS[flag]?.hint ?? 'Flagged by the guardrail check.'}
                </Text>
              </Group>
            ))}
          </Stack>
        </Alert>
      )}
      <Textarea
        label="AI draft reply"
        description="Edit before sending. Drafts are never sent to the customer automatically."
        autosize
        minRows={6}
        maxRows={18}
        value={body}
        onChange={(event) => {
          setBody(event.currentTarget.value);
          setSaved(false);
        }}
        error={error ?? (mutationError ? errorMessage(mutationError) : null)}
      />
      <Group gap={6} c="dimmed">
        <IconInfoCircle size={16} aria-hidden="true" />
        <Text size="xs" fs="italic">
          {APPROVAL_HINT}
        </Text>
      </Group>
      {flagged && (
        <GuardrailWarning
          flags={flagged}
          pending={send.isPending}
          onConfirm={() => run('send', true)}
          onEdit={() => send.reset()}
        />
      )}
      <Group justify="flex-end" gap="sm">
        {saved && (
          <Text size="xs" c="teal" role="status">
            Draft saved
          </Text>
        )}
        <Button
          variant="default"
          onClick={() => run('save')}
          loading={save.isPending}
          disabled={busy}
        >
          Save Draft
        </Button>
        <Button color="teal" onClick={() => run('send')} loading={send.isPending} disabled={busy}>
          Save &amp; Mark Replied
        </Button>
      </Group>
    </Stack>
  );
}
