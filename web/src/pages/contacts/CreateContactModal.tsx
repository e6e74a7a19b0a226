import { Alert, Button, Group, Modal, MultiSelect, SimpleGrid, Stack, TagsInput, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { AUDIENCE_KEYS, notifyDone, useLists, useTags } from '../../api/audience';
import { errorMessage, post } from '../../api/client';
import type { Contact, Data } from '../../api/types';

/** "New contact": email and the usual fields, lists and tags; opens the contact once created. */
export function CreateContactModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const lists = useLists();
  const tags = useTags();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ email: '', firstName: '', lastName: '', company: '' });
  const [listIds, setListIds] = useState<string[]>([]);
  const [tagNames, setTagNames] = useState<string[]>([]);

  const create = useMutation({
    mutationFn: () =>
      post<Data<Contact>>('/contacts', {
        email: form.email,
        firstName: form.firstName || undefined,
        lastName: form.lastName || undefined,
        company: form.company || undefined,
        lists: listIds.map(Number),
        tags: tagNames,
      }),
    onSuccess: async ({ data }) => {
      await Promise.all(AUDIENCE_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })));
      notifyDone(`Created ${data.email}.`);
      setForm({ email: '', firstName: '', lastName: '', company: '' });
      setListIds([]);
      setTagNames([]);
      onClose();
      navigate(`/contacts/${data.id}`);
    },
  });

  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => {
      const value = e.currentTarget.value;
      setForm((f) => ({ ...f, [key]: value }));
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }

  return (
    <Modal opened={opened} onClose={onClose} title="New contact" size="lg">
      <form onSubmit={submit}>
        <Stack>
          {create.error && (
            <Alert color="red" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <TextInput label="Email" type="email" required data-autofocus {...field('email')} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="First name" {...field('firstName')} />
            <TextInput label="Last name" {...field('lastName')} />
          </SimpleGrid>
          <TextInput label="Company" {...field('company')} />
          <MultiSelect
            label="Lists"
            placeholder="Pick lists"
            data={(lists.data?.data ?? []).map((l) => ({ value: String(l.id), label: l.name }))}
            value={listIds}
            onChange={setListIds}
            searchable
          />
          <TagsInput
            label="Tags"
            description="Type a tag and press Enter; new tags are created."
            data={(tags.data?.data ?? []).map((t) => t.name)}
            value={tagNames}
            onChange={setTagNames}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create contact
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
