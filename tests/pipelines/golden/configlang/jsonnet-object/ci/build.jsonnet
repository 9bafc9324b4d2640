// The configured path is ci/build.jsonnet; the top level is one object, so one pipeline.
local steps = import 'lib/steps.libsonnet';
local pr = std.extVar('build.event') == 'pull_request';
{
  kind: 'pipeline',
  name: 'go',
  environment: { TARGET: std.extVar('build.target'), AUTHOR: std.extVar('build.author_login') },
  steps: [steps.build, steps.test(race=!pr)] + [
    { name: 'note', image: 'alpine', commands: ['echo %s' % std.extVar('build.title')] }
    for _ in (if pr then [1] else [])
  ],
}
