import { Alert, Button, Grid, Group, Loader, Modal, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { del, errorMessage, get, patch, post } from '../../api/client';
import type { One, Template } from '../../api/messages';
import { useSession } from '../../auth/session';
import { ContactPicker } from '../../components/ContactPicker';
import { EditGuard } from '../../components/EditGuard';
import { EmailPreview } from '../../components/EmailPreview';
import { Page, QueryState } from '../../components/Page';
import { PreviewProblems, TemplateSourceFields, templateErrors, useLivePreview, type TemplateSource } from '../../components/TemplateSourceFields';

const STARTER: TemplateSource = {
  subject: 'Hello {{ firstName | default: "there" }}',
  html: '<h1>Hi {{ firstName | default: "there" }}</h1>\n<p>Write your message here.</p>\n<p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>',
  text: '',
};

/** `templates/new` and `templates/:id`: the Liquid editor with a live preview for a chosen contact. */
export function TemplateEditorPage() {
  const { id } = useParams();
  const isNew = id === undefined || id === 'new';
  const query = useQuery({
    queryKey: ['templates', Number(id)],
    queryFn: ({ signal }) => get<One<Template>>(`/templates/${id}`, undefined, signal).then((r) => r.data),
    enabled: !isNew,
  });
  if (isNew) return <TemplateEditor />;
  return (
    <QueryState isLoading={query.isLoading} error={query.error}>
      {query.data && <TemplateEditor key={query.data.id} template={query.data} />}
    </QueryState>
  );
}

function TemplateEditor({ template }: { template?: Template }) {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [name, setName] = useState(template?.name ?? 'Untitled template');
  const [source, setSource] = useState<TemplateSource>(template ? { subject: template.subject, html: template.html, text: template.text ?? '' } : STARTER);
  const [contactId, setContactId] = useState<number | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const preview = useLivePreview(source, contactId);

  const saved = template && name === template.name && source.subject === template.subject && source.html === template.html && source.text === (template.text ?? '');

  const save = useMutation({
    mutationFn: () => {
      const body = { name, subject: source.subject, html: source.html, text: source.text || null };
      return template ? patch<One<Template>>(`/templates/${template.id}`, body) : post<One<Template>>('/templates', body);
    },
    onSuccess: ({ data }) => {
      notifications.show({ color: 'green', message: `Template “${data.name}” saved` });
      void queryClient.invalidateQueries({ queryKey: ['templates'] });
      if (!template) navigate(`/templates/${data.id}`, { replace: true });
    },
    onError: (err) => {
      if (templateErrors(err).length === 0) notifications.show({ color: 'red', title: 'Could not save', message: errorMessage(err) });
    },
  });
  const remove = useMutation({
    mutationFn: () => del(`/templates/${template!.id}`),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Template “${name}” deleted` });
      void queryClient.invalidateQueries({ queryKey: ['templates'] });
      navigate('/templates');
    },
    onError: (err) => notifications.show({ color: 'red', title: 'Could not delete', message: errorMessage(err) }),
  });

  // A failed save's syntax error stays shown until the source changes; the live preview's errors follow the source.
  const saveErrors = templateErrors(save.error);
  useEffect(() => {
    if (save.error) save.reset();
  }, [source]);
  const errors = preview.errors.length > 0 ? preview.errors : saveErrors;

  return (
    <Page
      title={template ? `Template: ${template.name}` : 'New template'}
      actions={
        <>
          {template && (
            <EditGuard>
              <Button variant="light" color="red" disabled={!canEdit} onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            </EditGuard>
          )}
          <EditGuard>
            <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!canEdit || saved || !name.trim()}>
              {saved ? 'Saved' : 'Save'}
            </Button>
          </EditGuard>
        </>
      }
    >
      {!canEdit && <Alert color="gray">You can read this template and preview it; your role (viewer) cannot change it.</Alert>}
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack gap="sm">
            <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!canEdit} />
            <TemplateSourceFields value={source} onChange={setSource} errors={errors} disabled={!canEdit} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Paper withBorder p="md" component="section" aria-labelledby="preview-title">
            <Stack gap="sm">
              <Group justify="space-between">
                <Title order={3} size="h5" id="preview-title">
                  Preview
                </Title>
                {preview.isFetching && <Loader size="xs" aria-label="Rendering preview" />}
              </Group>
              <ContactPicker label="Preview as contact" value={contactId} onChange={setContactId} description="Without a contact, fields are empty and defaults apply." />
              <PreviewProblems errors={preview.errors} otherError={preview.otherError} />
              {!preview.ready && <Text c="dimmed">Give the template a subject and HTML to see it.</Text>}
              {preview.rendered && <EmailPreview email={preview.rendered} />}
            </Stack>
          </Paper>
        </Grid.Col>
      </Grid>
      <Modal opened={confirmDelete} onClose={() => setConfirmDelete(false)} title="Delete template?">
        <Text mb="md">“{template?.name}” will be gone; campaigns or steps that still use it will fail to send.</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setConfirmDelete(false)}>
            Keep it
          </Button>
          <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
            Delete
          </Button>
        </Group>
      </Modal>
    </Page>
  );
}
