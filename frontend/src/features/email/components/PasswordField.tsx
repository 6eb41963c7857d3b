//! A write-only password: the stored one is never shown, only whether one is set. The admin can
//! keep it, type a new one, or remove it.
import { Button, Group, PasswordInput, type PasswordInputProps, Text } from '@mantine/core';

/** What a save does to the stored password. */
export type PasswordMode = 'keep' | 'change' | 'clear';

export function PasswordField({
  label,
  isSet,
  mode,
  onModeChange,
  inputProps,
}: {
  label: string;
  isSet: boolean;
  mode: PasswordMode;
  onModeChange: (mode: PasswordMode) => void;
  inputProps: PasswordInputProps;
}) {
  if (isSet && mode !== 'change') {
    return (
      <div>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Group gap="xs" mt={4}>
          <Text size="sm" c={mode === 'clear' ? 'red' : 'dimmed'}>
            {mode === 'clear' ? 'Will be removed when you save' : 'Password set'}
          </Text>
          <Button variant="subtle" size="compact-sm" onClick={() => onModeChange('change')}>
            Change
          </Button>
          {mode === 'clear' ? (
            <Button variant="subtle" size="compact-sm" onClick={() => onModeChange('keep')}>
              Keep it
            </Button>
          ) : (
            <Button
              variant="subtle"
              color="red"
              size="compact-sm"
              onClick={() => onModeChange('clear')}
            >
              Remove
            </Button>
          )}
        </Group>
      </div>
    );
  }
  return (
    <Group align="flex-end" gap="xs" wrap="nowrap">
      <PasswordInput
        label={label}
        autoComplete="new-password"
        placeholder={isSet ? 'New password' : 'Not set'}
        style={{ flex: 1 }}
        {...inputProps}
      />
      {isSet && (
        <Button variant="subtle" onClick={() => onModeChange('keep')}>
          Cancel
        </Button>
      )}
    </Group>
  );
}
