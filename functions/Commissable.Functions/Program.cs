// The Cloud Run host; its composition comes with the functions (issue 3).
var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
await app.RunAsync();
