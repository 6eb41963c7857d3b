import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { apiError, json, mockApi } from '@/test/api';
import { ticket } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { NewTicketForm } from './NewTicketForm';

describe('NewTicketForm', () => {
  it('validates required fields, email and lengths before sending', async () => {
    const api = mockApi({});
    const { user } = renderWithApp(<NewTicketForm onCreated={vi.fn()} />);
    await user.type(screen.getByLabelText(/Customer email/), 'carla@');
    await user.click(screen.getByLabelText(/Subject/));
    await user.paste('s'.repeat(201));
    await user.click(screen.getByRole('button', { name: 'Create ticket' }));

    expect(await screen.findByText('Customer name is required')).toBeInTheDocument();
    expect(screen.getByText('Enter a valid email address')).toBeInTheDocument();
    expect(screen.getByText('Subject must be at most 200 characters')).toBeInTheDocument();
    expect(screen.getByText('Message is required')).toBeInTheDocument();
    expect(api.requests).toHaveLength(0);
  });

  it('creates the ticket with trimmed values and the chosen channel', async () => {
    const api = mockApi({ 'POST /api/tickets': () => json(ticket, 201) });
    const onCreated = vi.fn();
    const { user } = renderWithApp(<NewTicketForm onCreated={onCreated} />);
    await user.type(screen.getByLabelText(/Customer name/), ' Carla Customer ');
    await user.type(screen.getByLabelText(/Customer email/), 'carla@example.com');
    await user.type(screen.getByLabelText(/Subject/), 'Charged twice');
    await user.type(screen.getByLabelText(/Message/), 'My card was charged twice.  ');
    await user.click(screen.getByLabelText('Channel', { selector: 'input' }));
    await user.click(await screen.findByRole('option', { name: 'Email' }));
    await user.click(screen.getByRole('button', { name: 'Create ticket' }));

    await waitFor(() => expect(onCreated).toHaveBeenCalledWith(ticket));
    expect(api.find('POST', '/api/tickets')[0]?.body).toEqual({
      subject: 'Charged twice',
      body: 'My card was charged twice.',
      channel: 'email',
      customer_name: 'Carla Customer',
      customer_email: 'carla@example.com',
    });
  });

  it('shows the API field errors on the matching fields', async () => {
    mockApi({
      'POST /api/tickets': () =>
        apiError(422, 'validation_failed', 'Invalid ticket', {
          customer_email: 'customer_email is not a valid email address',
        }),
    });
    const onCreated = vi.fn();
    const { user } = renderWithApp(<NewTicketForm onCreated={onCreated} />);
    await user.type(screen.getByLabelText(/Customer name/), 'Carla');
    await user.type(screen.getByLabelText(/Customer email/), 'carla@example.com');
    await user.type(screen.getByLabelText(/Subject/), 'Hello');
    await user.type(screen.getByLabelText(/Message/), 'Body');
    await user.click(screen.getByRole('button', { name: 'Create ticket' }));

    expect(
      await screen.findByText('customer_email is not a valid email address'),
    ).toBeInTheDocument();
    expect(screen.getByLabelText(/Customer email/)).toHaveAttribute('aria-invalid', 'true');
    expect(onCreated).not.toHaveBeenCalled();
  });

  it('shows an error that belongs to no field as a message', async () => {
    mockApi({ 'POST /api/tickets': () => apiError(500, 'internal', 'Internal error (id 42)') });
    const { user } = renderWithApp(<NewTicketForm onCreated={vi.fn()} />);
    await user.type(screen.getByLabelText(/Customer name/), 'Carla');
    await user.type(screen.getByLabelText(/Customer email/), 'carla@example.com');
    await user.type(screen.getByLabelText(/Subject/), 'Hello');
    await user.type(screen.getByLabelText(/Message/), 'Body');
    await user.click(screen.getByRole('button', { name: 'Create ticket' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Internal error (id 42)');
  });
});
