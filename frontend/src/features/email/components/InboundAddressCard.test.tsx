import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, json, mockApi } from '@/test/api';
import { renderWithApp } from '@/test/render';
import { InboundAddressCard } from './InboundAddressCard';

const first = {
  token: 'a'.repeat(64),
  path: `/api/inbound/email/${'a'.repeat(64)}`,
  max_message_bytes: 10485760,
};
const second = {
  token: 'b'.repeat(64),
  path: `/api/inbound/email/${'b'.repeat(64)}`,
  max_message_bytes: 10485760,
};

describe('InboundAddressCard', () => {
  it('shows the full address and copies it', async () => {
    mockApi({ 'GET /api/settings/email/inbound': () => json(first) });
    const { user } = renderWithApp(<InboundAddressCard />);
    const input = await screen.findByLabelText('Inbound email address');
    const url = `${window.location.origin}${first.path}`;
    expect(input).toHaveValue(url);
    expect(screen.getByText('Messages up to 10 MB are accepted.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Copy' }));
    expect(await navigator.clipboard.readText()).toBe(url);
    expect(await screen.findByRole('button', { name: 'Copied' })).toBeInTheDocument();
  });

  it('rotates only after confirmation and shows the new address', async () => {
    let current = first;
    const api = mockApi({
      'GET /api/settings/email/inbound': () => json(current),
      'POST /api/settings/email/inbound/rotate': () => {
        current = second;
        return json(second);
      },
    });
    const { user } = renderWithApp(<InboundAddressCard />);
    const input = await screen.findByLabelText('Inbound email address');

    await user.click(screen.getByRole('button', { name: 'Rotate address' }));
    const dialog = await screen.findByRole('dialog', { name: 'Rotate the inbound address?' });
    expect(within(dialog).getByText(/stops working at once/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.find('POST', '/api/settings/email/inbound/rotate')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Rotate address' }));
    await user.click(await screen.findByRole('button', { name: 'Rotate now' }));
    await waitFor(() => expect(input).toHaveValue(`${window.location.origin}${second.path}`));
    expect(api.find('POST', '/api/settings/email/inbound/rotate')).toHaveLength(1);
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('keeps the dialog open with the reason when rotation fails', async () => {
    mockApi({
      'GET /api/settings/email/inbound': () => json(first),
      'POST /api/settings/email/inbound/rotate': () =>
        apiError(403, 'forbidden', 'this action needs the admin role'),
    });
    const { user } = renderWithApp(<InboundAddressCard />);
    await user.click(await screen.findByRole('button', { name: 'Rotate address' }));
    await user.click(await screen.findByRole('button', { name: 'Rotate now' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('this action needs the admin role');
    expect(screen.getByLabelText('Inbound email address')).toHaveValue(
      `${window.location.origin}${first.path}`,
    );
  });
});
