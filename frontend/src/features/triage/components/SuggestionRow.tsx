import { Anchor, Badge, Button, Group, Stack, Text, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconSparkles } from '@tabler/icons-react';
import { type ReactNode, useId } from 'react';
import { type Confidence, decisionText, type FieldDecision } from './steps';

/** One AI suggestion: its value, its reasoning on demand, and the control to override it. */
export function SuggestionRow({
  title,
  suggested,
  reason,
  overridden,
  confidence = null,
  decision = null,
  onApply,
  applying = false,
  children,
}: {
  title: string;
  suggested: string;
  reason: string | null;
  overridden: boolean;
  confidence?: Confidence | null;
  /** Set for runs queued on arrival: whether the field was applied or only suggested. */
  decision?: FieldDecision | null;
  /** Offered while the suggestion is not the ticket's value: sets it in one click. */
  onApply?: () => void;
  applying?: boolean;
  children: ReactNode;
}) {
  const [open, { toggle }] = useDisclosure(false);
  const reasonId = useId();
  return (
    <Stack gap={4} data-testid={`suggestion-${title.toLowerCase()}`}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs">
          <Text size="sm" fw={600}>
            {title}
          </Text>
          <Badge
            variant="light"
            color="violet"
            leftSection={<IconSparkles size={12} />}
            aria-label={`AI suggested ${title.toLowerCase()}: ${suggested}`}
          >
            AI: {suggested}
          </Badge>
          {confidence && (
            <Tooltip
              label={
                confidence.source === 'calibrated'
                  ? 'Calibrated probability: of suggestions with this score, about this share is right'
                  : 'The language model’s own estimate (not calibrated)'
              }
              multiline
              w={260}
            >
              <Badge
                variant="outline"
                color={
                  confidence.value >= 0.8 ? 'teal' : confidence.value >= 0.5 ? 'gray' : 'orange'
                }
                data-testid="confidence"
              >
                {Math.round(confidence.value * 100)}% sure
                {confidence.source === 'self_reported' ? ' (self-reported)' : ''}
              </Badge>
            </Tooltip>
          )}
          {decision && (
            <Badge
              variant="light"
              color={
                decision.outcome === 'applied'
                  ? 'teal'
                  : decision.outcome === 'kept_human'
                    ? 'blue'
                    : 'gray'
              }
              tt="none"
              data-testid="decision"
            >
              {decisionText(decision)}
            </Badge>
          )}
          {overridden && (
            <Badge variant="outline" color="orange">
              Overridden
            </Badge>
          )}
          {onApply && (
            <Button
              size="compact-xs"
              variant="light"
              color="violet"
              onClick={onApply}
              loading={applying}
            >
              Apply suggestion
            </Button>
          )}
        </Group>
        {reason && (
          <Anchor
            component="button"
            type="button"
            size="xs"
            onClick={toggle}
            aria-expanded={open}
            aria-controls={open ? reasonId : undefined}
          >
            {open ? 'Hide reasoning' : 'Why?'}
          </Anchor>
        )}
      </Group>
      {reason && open && (
        <Text id={reasonId} size="xs" c="dimmed" bg="gray.0" p="xs" style={{ borderRadius: 4 }}>
          {reason}
        </Text>
      )}
      {children}
    </Stack>
  );
}
