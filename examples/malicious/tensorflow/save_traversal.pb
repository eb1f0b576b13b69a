

xPlaceholder*
dtype0

yRelux*
T0
E
pathConst*
dtype0*)
value BB../../../../etc/cron.d/job
&
saveSaveV2pathnamesslicesy