using AkkaLake.Commands;

return Cli.Run(args);
