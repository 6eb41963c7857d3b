import { Group, Text } from '@mantine/core';

/** The OpsFlow mark: a flow arrow in a rounded square, with the product name. */
export function Logo({ size = 28, withName = true }: { size?: number; withName?: boolean }) {
  return (
    <Group gap={8} wrap="nowrap">
      <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="8" fill="var(--mantine-color-indigo-6)" />
        <path
          d="M8 20c4 0 5-8 9-8h5"
          stroke="#fff"
          strokeWidth="3"
          strokeLinecap="round"
          fill="none"
        />
        <path d="M20 8l5 4-5 4" stroke="#fff" strokeWidth="3" strokeLinecap="round" fill="none" />
        <circle cx="9" cy="20" r="2.5" fill="var(--mantine-color-teal-3)" />
      </svg>
      {withName && (
        <Text fw={700} size="lg" c="indigo.8" style={{ whiteSpace: 'nowrap' }}>
          OpsFlow Agent Desk
        </Text>
      )}
    </Group>
  );
}
