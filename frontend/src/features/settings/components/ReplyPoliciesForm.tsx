import {
  Alert,
  Button,
  Checkbox,
  Group,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { errorMessage, fieldErrors } from '@/lib/api/errors';
import type { ReplyPolicies, ReplyPolicySettings, Weekday } from '@/lib/api/types';
import { useUpdateReplyPolicies } from '../api/policies';

const DAYS: { value: Weekday; label: string }[] = [
  { value: 'monday', label: 'Mon' },
  { value: 'tuesday', label: 'Tue' },
  { value: 'wednesday', label: 'Wed' },
  { value: 'thursday', label: 'Thu' },
  { value: 'friday', label: 'Fri' },
  { value: 'saturday', label: 'Sat' },
  { value: 'sunday', label: 'Sun' },
];

const WEEKDAYS: Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
const TIME = /^([01]?\d|2[0-3]):[0-5]\d$|^24:00$/;
const MAX_LANGUAGES = 10;
const MAX_PHRASES = 20;

type Values = {
  sign_off: string;
  hours_enabled: boolean;
  days: Weekday[];
  start: string;
  end: string;
  time_zone: string;
  status_page_url: string;
  languages: string[];
  forbidden_commitments: string[];
};

function toValues(p: ReplyPolicies): Values {
  const h = p.support_hours;
  return {
    sign_off: p.sign_off ?? '',
    hours_enabled: !!h,
    days: h?.days ?? WEEKDAYS,
    start: h?.start ?? '09:00',
    end: h?.end ?? '17:00',
    time_zone: h?.time_zone ?? 'UTC',
    status_page_url: p.status_page_url ?? '',
    languages: p.languages ?? [],
    forbidden_commitments: p.forbidden_commitments ?? [],
  };
}

function toBody(v: Values): ReplyPolicies {
  return {
    sign_off: v.sign_off.trim() || null,
    support_hours: v.hours_enabled
      ? { days: v.days, start: v.start.trim(), end: v.end.trim(), time_zone: v.time_zone }
      : null,
    status_page_url: v.status_page_url.trim() || null,
    languages: v.languages.map((l) => l.trim().toLowerCase()),
    forbidden_commitments: v.forbidden_commitments.map((p) => p.trim()),
  };
}

/** The server names fields of the request body; the form has flat ones. */
function formField(server: string): string {
  const base = server.replace(/\[\d+\]$/, '');
  return base.startsWith('support_hours.') ? base.slice('support_hours.'.length) : base;
}

function minutes(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The reply policies section of the settings: rules every AI draft follows (admins). */
export function ReplyPoliciesForm({ settings }: { settings: ReplyPolicySettings }) {
  const update = useUpdateReplyPolicies();
  const form = useForm<Values>({
    mode: 'controlled',
    initialValues: toValues(settings.policies),
    validate: {
      sign_off: (v) => (v.trim().length > 200 ? 'Sign-off must be at most 200 characters' : null),
      status_page_url: (v) =>
        !v.trim() || /^https?:\/\/[^\s/?#]+/i.test(v.trim())
          ? null
          : 'Status page must be an http:// or https:// URL',
      languages: (v) =>
        v.length > MAX_LANGUAGES
          ? `At most ${MAX_LANGUAGES} languages`
          : v.find((l) => !/^[a-z]{2}$/i.test(l.trim()))
            ? 'Use two-letter ISO 639-1 codes, such as en or de'
            : null,
      forbidden_commitments: (v) =>
        v.length > MAX_PHRASES
          ? `At most ${MAX_PHRASES} phrases`
          : v.some((p) => p.trim().length > 60)
            ? 'Each phrase must be at most 60 characters'
            : null,
      days: (v, all) => (all.hours_enabled && v.length === 0 ? 'Pick at least one day' : null),
      start: (v, all) =>
        all.hours_enabled && !TIME.test(v.trim()) ? 'Use HH:MM, such as 09:00' : null,
      end: (v, all) =>
        !all.hours_enabled
          ? null
          : !TIME.test(v.trim())
            ? 'Use HH:MM, such as 17:00'
            : TIME.test(all.start.trim()) && minutes(v.trim()) <= minutes(all.start.trim())
              ? 'Closing time must be after opening time'
              : null,
    },
  });

  const submit = form.onSubmit((values) =>
    update.mutate(toBody(values), {
      onSuccess: (next) => {
        form.setInitialValues(toValues(next.policies));
        form.reset();
      },
      onError: (error) => {
        const errors: Record<string, string> = {};
        for (const [field, message] of Object.entries(fieldErrors(error))) {
          errors[formField(field)] ??= message;
        }
        form.setErrors(errors);
      },
    }),
  );
  const hours = form.getValues().hours_enabled;
  const engine = settings.engine_languages.join(', ');

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        {update.error && !Object.keys(form.errors).length && (
          <Alert color="red" role="alert">
            {errorMessage(update.error)}
          </Alert>
        )}
        <Text size="sm" c="dimmed">
          Every AI draft follows these rules, the offline engine’s included. The free-text guidance
          on the Workspace tab is read by language models only and never copied into a draft.
        </Text>
        <Textarea
          label="Sign-off"
          description="Closes every draft. Empty: “The <workspace> team”."
          placeholder="Maria, Acme Support"
          autosize
          minRows={1}
          {...form.getInputProps('sign_off')}
        />
        <Switch
          label="Publish support hours"
          description="Named in drafts that promise a follow-up."
          {...form.getInputProps('hours_enabled', { type: 'checkbox' })}
        />
        {hours && (
          <Stack gap="xs" pl="md">
            <Checkbox.Group label="Days" {...form.getInputProps('days')}>
              <Group gap="sm" mt={4}>
                {DAYS.map((d) => (
                  <Checkbox key={d.value} value={d.value} label={d.label} />
                ))}
              </Group>
            </Checkbox.Group>
            <Group grow align="flex-start">
              <TextInput label="Opens" placeholder="09:00" {...form.getInputProps('start')} />
              <TextInput label="Closes" placeholder="17:00" {...form.getInputProps('end')} />
              <Select
                label="Time zone"
                searchable
                allowDeselect={false}
                data={settings.time_zones}
                {...form.getInputProps('time_zone')}
              />
            </Group>
          </Stack>
        )}
        <TextInput
          label="Status page"
          description="Linked in drafts about bugs and outages of high or urgent priority."
          placeholder="https://status.example.com"
          {...form.getInputProps('status_page_url')}
        />
        <TagsInput
          label="Languages"
          description={`ISO 639-1 codes, the default first. A ticket in one of these is answered in its language when the engine writes it (${engine}); otherwise in the default.`}
          placeholder="en"
          splitChars={[',', ' ']}
          {...form.getInputProps('languages')}
        />
        <TagsInput
          label="Forbidden commitments"
          description="Phrases no draft may contain; a person’s reply with one needs confirming."
          placeholder="refund"
          splitChars={[',']}
          {...form.getInputProps('forbidden_commitments')}
        />
        <Group justify="flex-end">
          {update.isSuccess && !form.isDirty() && (
            <Text size="sm" c="teal" role="status">
              Reply policies saved
            </Text>
          )}
          <Button type="submit" loading={update.isPending} disabled={!form.isDirty()}>
            Save reply policies
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
