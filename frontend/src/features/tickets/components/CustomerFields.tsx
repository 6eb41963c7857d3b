import { Group, TextInput } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';

interface CustomerValues {
  customer_name: string;
  customer_email: string;
}

/** Customer name and email side by side, for the new-ticket form and the header edit. */
export function CustomerFields<T extends CustomerValues>({
  form,
  autoFocus = false,
}: {
  form: UseFormReturnType<T>;
  autoFocus?: boolean;
}) {
  return (
    <Group grow align="flex-start" wrap="wrap">
      <TextInput
        label="Customer name"
        required
        data-autofocus={autoFocus || undefined}
        {...form.getInputProps('customer_name')}
      />
      <TextInput
        label="Customer email"
        type="email"
        required
        {...form.getInputProps('customer_email')}
      />
    </Group>
  );
}
