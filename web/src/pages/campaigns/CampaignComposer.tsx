import { Alert, Button, Grid, Group, Loader, MultiSelect, NumberInput, Paper, SegmentedControl, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { errorMessage, get, patch, post } from '../../api/client';
import type { Audience, AudienceCount, Campaign, One, Template } from '../../api/messages';
import { toSelectData, useLists, useSegments, useSendingConfigs, useTags, useTemplates } from '../../api/options';
import { useSession } from '../../auth/session';
import { ContactPicker } from '../../components/ContactPicker';
import { EditGuard } from '../../components/EditGuard';
import { EmailPreview } from '../../components/EmailPreview';
import { PreviewProblems, TemplateSourceFields, templateErrors, useLivePreview, type TemplateSource } from '../../components/TemplateSourceFields';

const EMPTY_AUDIENCE: Audience = { listIds: [], tagIds: [], segmentIds: [], excludeListIds: [], excludeSegmentIds: [] };
const ids = (v: string[]) => v.map(Number);
const strs = (v: number[]) => v.map(String);

/** The audience's size right now, as freezing it would give (POST /campaigns/audience-count). */
function AudienceCountLine({ audience }: { audience: Audience }) {
  const [debounced] = useDebouncedValue(audience, 300);
  const empty = debounced.listIds.length + debounced.tagIds.length + debounced.segmentIds.length === 0;
  const query = useQuery({
    queryKey: ['campaigns', 'audience-count', debounced],
    queryFn: () => post<One<AudienceCount>>('/campaigns/audience-count', debounced).then((r) => r.data),
    enabled: !empty,
  });
  if (empty) return <Text size="sm" c="dimmed">Pick at least one list, tag or segment.</Text>;
  if (query.error) return <Text size="sm" c="red">{errorMessage(query.error)}</Text>;
  if (!query.data) return <Loader size="xs" aria-label="Counting the audience" />;
  return (
    <Text size="sm" aria-live="polite" data-testid="audience-count">
      <Text span fw={700}>
        {query.data.recipients.toLocaleString()}
      </Text>{' '}
      subscribed contacts would receive it now
      {query.data.suppressed > 0 ? ` (${query.data.suppressed.toLocaleString()} more are suppressed and will be skipped)` : ''}. The audience is frozen when sending starts.
    </Text>
  );
}

/**
 * Compose a campaign (new, or a draft/scheduled one): name, sending config (the From), content written
 * here or taken from a template, the audience with its live count, and a preview for a contact.
 */
export function CampaignComposer({ campaign }: { campaign?: Campaign }) {
  const { canEdit } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const configs = useSendingConfigs();
  const templates = useTemplates();
  const lists = useLists();
  const tags = useTags();
  const segments = useSegments();

  const [name, setName] = useState(campaign?.name ?? '');
  const [configId, setConfigId] = useState<string | null>(campaign ? String(campaign.sendingConfigId) : null);
  const [mode, setMode] = useState<'write' | 'template'>(campaign?.templateId ? 'template' : 'write');
  const [templateId, setTemplateId] = useState<string | null>(campaign?.templateId ? String(campaign.templateId) : null);
  const [subjectOverride, setSubjectOverride] = useState(campaign?.templateId ? (campaign.subject ?? '') : '');
  const [source, setSource] = useState<TemplateSource>({
    subject: campaign && !campaign.templateId ? (campaign.subject ?? '') : '',
    html: campaign && !campaign.templateId ? (campaign.html ?? '') : '<h1>Hello {{ firstName | default: "there" }}</h1>\n<p></p>\n<p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>',
    text: campaign && !campaign.templateId ? (campaign.text ?? '') : '',
  });
  const [audience, setAudience] = useState<Audience>(campaign?.audience ?? EMPTY_AUDIENCE);
  // Blank on a new campaign: the server's default (1000).
  const [batchSize, setBatchSize] = useState<number | string>(campaign?.batchSize ?? '');
  const [maxPerSecond, setMaxPerSecond] = useState<number | string>(campaign?.maxPerSecond ?? '');
  const [contactId, setContactId] = useState<number | null>(null);

  // Default to the first sending config once they load.
  if (configId === null && configs.data?.data[0]) setConfigId(String(configs.data.data[0].id));

  const template = useQuery({
    queryKey: ['templates', Number(templateId)],
    queryFn: () => get<One<Template>>(`/templates/${templateId}`).then((r) => r.data),
    enabled: mode === 'template' && templateId !== null,
  });
  const previewSource: TemplateSource =
    mode === 'template'
      ? { subject: subjectOverride || template.data?.subject || '', html: template.data?.html ?? '', text: template.data?.text ?? '' }
      : source;
  const preview = useLivePreview(previewSource, contactId, mode === 'write' || template.data !== undefined);

  const save = useMutation({
    mutationFn: () => {
      const content =
        mode === 'template'
          ? { templateId: Number(templateId), ...(subjectOverride ? { subject: subjectOverride } : campaign ? { subject: undefined } : {}) }
          : { templateId: null, subject: source.subject, html: source.html, text: source.text || null };
      const body = {
        name,
        sendingConfigId: Number(configId),
        ...content,
        audience,
        ...(batchSize === '' ? {} : { batchSize: Number(batchSize) }),
        maxPerSecond: maxPerSecond === '' ? null : Number(maxPerSecond),
      };
      return campaign ? patch<One<Campaign>>(`/campaigns/${campaign.id}`, body) : post<One<Campaign>>('/campaigns', body);
    },
    onSuccess: ({ data }) => {
      notifications.show({ color: 'green', message: campaign ? 'Campaign saved' : `Draft “${data.name}” created` });
      void queryClient.invalidateQueries({ queryKey: ['campaigns'] });
      if (!campaign) navigate(`/campaigns/${data.id}`);
    },
    onError: (err) => {
      if (templateErrors(err).length === 0) notifications.show({ color: 'red', title: 'Could not save the campaign', message: errorMessage(err) });
    },
  });

  const config = configs.data?.data.find((c) => String(c.id) === configId);
  const audienceField = (key: keyof Audience, label: string, data: ReturnType<typeof toSelectData>) => (
    <MultiSelect
      label={label}
      data={data}
      value={strs(audience[key])}
      onChange={(v) => setAudience({ ...audience, [key]: ids(v) })}
      searchable
      clearable
      disabled={!canEdit}
      nothingFoundMessage="None"
    />
  );
  const listData = (lists.data?.data ?? []).map((l) => ({ value: String(l.id), label: `${l.name} (${l.memberCount})` }));
  const errors = preview.errors.length ? preview.errors : templateErrors(save.error);
  const canSave = canEdit && name.trim() !== '' && configId !== null && (mode === 'write' ? source.subject !== '' && source.html !== '' : templateId !== null);

  return (
    <Stack gap="md">
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack gap="sm">
            <TextInput label="Campaign name" description="Only you see it." required value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={!canEdit} />
            <Select
              label="Send with"
              description={config ? `From: ${config.fromName ? `${config.fromName} <${config.fromEmail}>` : config.fromEmail} · ${config.provider}` : 'The sending config sets the From address and the provider.'}
              required
              data={(configs.data?.data ?? []).map((c) => ({ value: String(c.id), label: c.name }))}
              value={configId}
              onChange={setConfigId}
              disabled={!canEdit}
              allowDeselect={false}
            />
            <Stack gap={4}>
              <Text size="sm" fw={500} id="content-source-label">
                Content
              </Text>
              <SegmentedControl
                aria-labelledby="content-source-label"
                data={[
                  { value: 'write', label: 'Write it here' },
                  { value: 'template', label: 'Use a template' },
                ]}
                value={mode}
                onChange={(v) => setMode(v as 'write' | 'template')}
                disabled={!canEdit}
              />
            </Stack>
            {mode === 'template' ? (
              <>
                <Select label="Template" required searchable data={toSelectData(templates.data?.data)} value={templateId} onChange={setTemplateId} disabled={!canEdit} />
                <TextInput
                  label="Subject (optional)"
                  description={template.data ? `Leave empty to use the template’s: ${template.data.subject}` : 'Leave empty to use the template’s subject.'}
                  value={subjectOverride}
                  onChange={(e) => setSubjectOverride(e.currentTarget.value)}
                  disabled={!canEdit}
                />
              </>
            ) : (
              <TemplateSourceFields value={source} onChange={setSource} errors={errors} disabled={!canEdit} htmlRows={10} />
            )}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack gap="md">
            <Paper withBorder p="md" component="section" aria-labelledby="audience-title">
              <Stack gap="sm">
                <Title order={3} size="h5" id="audience-title">
                  Audience
                </Title>
                {audienceField('listIds', 'Lists', listData)}
                {audienceField('segmentIds', 'Segments', toSelectData(segments.data?.data))}
                {audienceField('tagIds', 'Tags', toSelectData(tags.data?.data))}
                {audienceField('excludeListIds', 'Except members of lists', listData)}
                {audienceField('excludeSegmentIds', 'Except contacts in segments', toSelectData(segments.data?.data))}
                <AudienceCountLine audience={audience} />
              </Stack>
            </Paper>
            <Paper withBorder p="md" component="section" aria-labelledby="campaign-preview-title">
              <Stack gap="sm">
                <Group justify="space-between">
                  <Title order={3} size="h5" id="campaign-preview-title">
                    Preview
                  </Title>
                  {preview.isFetching && <Loader size="xs" aria-label="Rendering preview" />}
                </Group>
                <ContactPicker label="Preview as contact" value={contactId} onChange={setContactId} />
                <PreviewProblems errors={preview.errors} otherError={preview.otherError} />
                {preview.rendered && <EmailPreview email={preview.rendered} height={360} />}
              </Stack>
            </Paper>
          </Stack>
        </Grid.Col>
      </Grid>
      <Group gap="sm" wrap="wrap">
        <NumberInput label="Batch size" description="Recipients per batch activity (default 1000)" placeholder="1000" min={1} max={1000} value={batchSize} onChange={setBatchSize} w={180} disabled={!canEdit} />
        <NumberInput label="Max per second (optional)" description="This campaign’s own throttle" min={1} value={maxPerSecond} onChange={setMaxPerSecond} w={220} disabled={!canEdit} />
      </Group>
      {save.error && templateErrors(save.error).length > 0 && <Alert color="red">The content does not parse; see the marked field.</Alert>}
      <Group>
        <EditGuard>
          <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!canSave}>
            {campaign ? 'Save changes' : 'Save draft'}
          </Button>
        </EditGuard>
      </Group>
    </Stack>
  );
}
