import os
os.system('echo rampart-example')
