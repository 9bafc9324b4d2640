{
  image:: 'golang:1.22',
  step(name, commands):: { name: name, image: $.image, commands: commands },
}
