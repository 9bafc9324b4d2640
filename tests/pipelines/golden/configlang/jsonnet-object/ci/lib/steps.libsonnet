// imported from ci/build.jsonnet; imports its neighbour by a path relative to this file
local common = import 'common.libsonnet';
{
  build: common.step('build', ['go build ./...']),
  test(race):: common.step('test', ['go test %s./...' % (if race then '-race ' else '')]),
}
