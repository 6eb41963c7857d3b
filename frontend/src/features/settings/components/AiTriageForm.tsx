import { Alert, Button, Group, NumberInput, Radio, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { errorMessage, fieldErrors } from '@/lib/api/errors';
import type { AiSettings, AutoTriageMode } from '@/lib/api/types';
import { useUpdateAiSettings } from '../api/ai';

const MODES: { value: AutoTriageMode; label: string; description: string }[] = [
  {
    value: 'off',
    label: 'Off',
    description: 'Triage runs only when someone clicks “Run AI Triage”.',
  },
  {
    value: 'suggest',
    label: 'Suggest',
    description:
      'Every new ticket (web, API or email) is triaged in the background. The results are shown as suggestions; no ticket field changes.',
  },
  {
    value: 'apply',
    label: 'Apply when confident',
    description:
      'Every new ticket is triaged, and each field whose confidence reaches its threshold below is set. The others stay suggestions.',
  },
];

const FIELDS = [
  {
    key: 'category',
    label: 'Category threshold',
    help: 'Confidence (0 to 1) a category needs to be set by itself.',
  },
  {
    key: 'priority',
    label: 'Priority threshold',
    help: 'Confidence a priority needs to be set by itself.',
  },
  {
    key: 'assignee',
    label: 'Assignee threshold',
    help: 'Confidence an assignee needs; keep it high, a wrong assignee costs a hand-off.',
  },
] as const;

type Values = {
  auto_triage: AutoTriageMode;
  thresholds: { category: number | string; priority: number | string; assignee: number | string };
};

function inRange(label: string) {
  return (value: number | string) =>
    typeof value === 'number' && value >= 0 && value <= 1
      ? null
      : `${label} must be a number from 0 to 1`;
}

/** The AI triage section of the settings: mode and per-field thresholds (admins). */
export function AiTriageForm({ settings }: { settings: AiSettings }) {
  const update = useUpdateAiSettings();
  const form = useForm<Values>({
    mode: 'controlled',
    initialValues: settings,
    validate: {
      thresholds: {
        category: inRange('Category threshold'),
        priority: inRange('Priority threshold'),
        assignee: inRange('Assignee threshold'),
      },
    },
  });

  const submit = form.onSubmit((values) =>
    update.mutate(
      {
        auto_triage: values.auto_triage,
        thresholds: {
          category: Number(values.thresholds.category),
          priority: Number(values.thresholds.priority),
          assignee: Number(values.thresholds.assignee),
        },
      },
      {
        onSuccess: (next) => {
          form.setInitialValues(next);
          form.reset();
        },
        onError: (error) => form.setErrors(fieldErrors(error)),
      },
    ),
  );
  const apply = form.getValues().auto_triage === 'apply';

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {update.error && !Object.keys(form.errors).length && (
          <Alert color="red" role="alert">
            {errorMessage(update.error)}
          </Alert>
        )}
        <Radio.Group
          label="Auto-triage new tickets"
          description="AI drafts are never sent by themselves: a person always sends the reply."
          {...form.getInputProps('auto_triage')}
        >
          <Stack gap="xs" mt="xs">
            {MODES.map((mode) => (
              <Radio
                key={mode.value}
                value={mode.value}
                label={mode.label}
                description={mode.description}
              />
            ))}
          </Stack>
        </Radio.Group>
        <Text size="sm" fw={600} mt="sm">
          Confidence thresholds
        </Text>
        <Text size="xs" c="dimmed" mt={-8}>
          {apply
            ? 'Used now: a field is set only when the AI’s confidence is at least its threshold.'
            : 'Used in “Apply when confident” mode.'}
        </Text>
        <Group grow align="flex-start">
          {FIELDS.map((field) => (
            <NumberInput
              key={field.key}
              label={field.label}
              description={field.help}
              min={0}
              max={1}
              step={0.05}
              decimalScale={2}
              {...form.getInputProps(`thresholds.${field.key}`)}
            />
          ))}
        </Group>
        <Group justify="flex-end">
          {update.isSuccess && !form.isDirty() && (
            <Text size="sm" c="teal" role="status">
              AI triage settings saved
            </Text>
          )}
          <Button type="submit" loading={update.isPending} disabled={!form.isDirty()}>
            Save AI triage settings
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
